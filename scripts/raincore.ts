// `raincore …` run from the TypeScript sources (no build needed): `npm run sim -- …` runs
// `raincore sim …` through it, and the real-process tests start `raincore node` members with it, e.g.
//   node --import tsx scripts/raincore.ts node --id n1 --listen udp://127.0.0.1:0
import { main } from "../cli.ts";

process.exitCode = await main(process.argv.slice(2));
