/** Prints docs/min-example.svg to stdout (see figure.ts). */
import { figureSvg } from "./figure.ts";

console.log(figureSvg().trimEnd());
