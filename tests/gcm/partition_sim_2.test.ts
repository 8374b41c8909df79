// Partition seeds 251..500 (split over files so that vitest runs them in parallel).
import { partitionSeeds } from "./sim/seeds.ts";
partitionSeeds(251, 250);
