// GDM simulator seeds 1..300 (two files so that vitest runs them in parallel).
import { gdmSimSeeds } from "./sim/seeds.ts";
gdmSimSeeds(1, 300);
