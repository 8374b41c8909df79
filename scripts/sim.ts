// `npm run sim -- …`: `raincore sim …` run from the TypeScript sources (no build needed), e.g.
//   npm run sim -- --layer gcm --seeds 1000 --partitions
import { main } from "../cli.ts";

process.exitCode = await main(["sim", ...process.argv.slice(2)]);
