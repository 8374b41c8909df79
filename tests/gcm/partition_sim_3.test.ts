// Partition seeds 501..750 (split over files so that vitest runs them in parallel).
import { partitionSeeds } from "./sim/seeds.ts";
partitionSeeds(501, 250);
