// Seeds 1..500 of the GCM simulator (split over files so that vitest runs them in parallel).
import { simSeeds } from "./sim/seeds.ts";
simSeeds(1, 500);
