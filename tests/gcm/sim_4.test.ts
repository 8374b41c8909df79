// Seeds 1501..2000 of the GCM simulator (split over files so that vitest runs them in parallel).
import { simSeeds } from "./sim/seeds.ts";
simSeeds(1501, 500);
