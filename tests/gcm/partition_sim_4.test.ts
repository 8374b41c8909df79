// Partition seeds 751..1000 (split over files so that vitest runs them in parallel).
import { partitionSeeds } from "./sim/seeds.ts";
partitionSeeds(751, 250);
