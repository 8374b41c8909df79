// GDM simulator seeds 301..600 (two files so that vitest runs them in parallel).
import { gdmSimSeeds } from "./sim/seeds.ts";
gdmSimSeeds(301, 300);
