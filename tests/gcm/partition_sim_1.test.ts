// Partition seeds 1..250 (split over files so that vitest runs them in parallel).
import { partitionSeeds } from "./sim/seeds.ts";
partitionSeeds(1, 250);
