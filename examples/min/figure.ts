/**
 * The figure of docs/min.md (docs/min-example.svg): the thesis's (3, 4) cyclic MIN (figure 27)
 * with its five disjoint paths from 000 to 110, and four faults — the switches carrying 000 in
 * stages 1–4, the worst place for them — that break four of the paths; the fifth survives.
 * Regenerate with `node --import tsx examples/min/print_figure.ts > docs/min-example.svg`.
 * @module
 */

import {
  barDiagramSvg,
  cyclicMasks,
  disjointPaths,
  type Network,
  parseLabel,
  type Switch,
} from "../../min/mod.ts";

/** The SVG text of docs/min-example.svg. */
export function figureSvg(): string {
  const net: Network = { n: 3, t: 2, masks: cyclicMasks(3, 4) };
  const a = parseLabel("000", 3, 2);
  const b = parseLabel("110", 3, 2);
  const faults: Switch[] = [0, 1, 2, 3].map((stage) => ({ stage, node: a }));
  return barDiagramSvg(net, {
    faults,
    paths: disjointPaths(net, a, b),
    title: "(3, 4) cyclic MIN: five disjoint paths 000 → 110 under four faults",
  });
}
