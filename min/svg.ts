/**
 * Bar diagram of a network as SVG (Knuth's bar diagram, as in thesis figures 24–31): a horizontal
 * line per node, a vertical bar per switch joining the nodes it carries, broken (red, dashed)
 * bars for faulty switches, and paths drawn in colour over it. Returns the SVG text; writing it
 * anywhere is the caller's business.
 * @module
 */

import { compile } from "./_compiled.ts";
import { checkLabel, formatLabel, indexOf } from "./labels.ts";
import { pathError, switchKey } from "./paths.ts";
import type { Network, Path, Switch } from "./types.ts";

/** Options of {@link barDiagramSvg}. */
export interface BarDiagramOptions {
  /** Faulty switches, drawn as broken red bars. @default [] */
  faults?: readonly Switch[];
  /** Paths to highlight, one colour each (e.g. the result of `disjointPaths`). @default [] */
  paths?: readonly Path[];
  /** Title line above the diagram. @default "" (none) */
  title?: string;
  /** Label each path in a legend with its modes. @default true */
  legend?: boolean;
}

/** Most nodes the drawing accepts; beyond that the rows are too thin to read. */
export const MAX_DRAWN_NODES = 256;

const COLORS = ["#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22"];

/**
 * The bar diagram of `net` as an SVG document. Nodes are rows, 0…0 at the top, labelled most
 * significant digit first as in the thesis; stages are columns headed with their 1-based number
 * and mask. Within a stage, switches whose bars would overlap are set side by side.
 * @throws {RangeError} when the network has more than {@link MAX_DRAWN_NODES} nodes or a path is
 * not a path of the network.
 */
export function barDiagramSvg(net: Network, options: BarDiagramOptions = {}): string {
  const c = compile(net);
  const { n, t, L, N } = c;
  if (N > MAX_DRAWN_NODES) {
    throw new RangeError(`t^n = ${N} nodes is too many to draw (at most ${MAX_DRAWN_NODES})`);
  }
  const faults = options.faults ?? [];
  const paths = options.paths ?? [];
  paths.forEach((p, k) => {
    const err = pathError(net, p);
    if (err !== null) throw new RangeError(`paths[${k}]: ${err}`);
  });
  faults.forEach((f, k) => checkLabel(f.node, n, t, `faults[${k}].node`));
  const faulty = new Set(faults.map((f) => switchKey(net, f)));

  const rowH = N <= 16 ? 26 : N <= 64 ? 16 : 9;
  const laneW = 14;
  const labelW = 12 + 8 * (t <= 36 ? n : 3 * n);
  const title = options.title ?? "";
  const top = (title ? 34 : 10) + 34;
  const rowY = (x: number) => top + x * rowH;

  // Lanes: greedy interval colouring of each stage's bars by their row span.
  const stageX: number[] = [];
  const laneOf: Map<number, number>[] = [];
  let x = labelW + 26;
  for (let i = 0; i < L; i++) {
    const spans = new Map<number, [number, number]>();
    for (let v = 0; v < N; v++) {
      const s = c.sw[i][v];
      const span = spans.get(s) ?? [v, v];
      spans.set(s, [Math.min(span[0], v), Math.max(span[1], v)]);
    }
    const laneEnds: number[] = [];
    const lanes = new Map<number, number>();
    for (const [s, [lo, hi]] of [...spans].sort((a, b) => a[1][0] - b[1][0])) {
      if (lo === hi) continue; // a zero mask: no bar
      let lane = laneEnds.findIndex((end) => end < lo);
      if (lane < 0) lane = laneEnds.push(hi) - 1;
      else laneEnds[lane] = hi;
      lanes.set(s, lane);
    }
    laneOf.push(lanes);
    stageX.push(x);
    x += Math.max(1, laneEnds.length) * laneW + 30;
  }
  const right = x - 4;
  // Wide enough for the title and the legend too (about 0.6 em per character).
  const legendChars = Math.max(0, ...paths.map((p) => 40 + 2 * p.modes.length + 4 * n));
  const width = Math.ceil(
    Math.max(right + labelW + 8, title.length * 9 + 40, labelW + 40 + legendChars * 6.6),
  );
  const legendRows = options.legend === false ? 0 : paths.length + (faults.length > 0 ? 1 : 0);
  const height = rowY(N - 1) + 26 + legendRows * 18;
  const barX = (i: number, v: number) => stageX[i] + (laneOf[i].get(c.sw[i][v]) ?? 0) * laneW;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  if (title) {
    out.push(
      `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${
        esc(title)
      }</text>`,
    );
  }
  // Stage headers.
  for (let i = 0; i < L; i++) {
    const lanes = Math.max(1, new Set(laneOf[i].values()).size);
    const cx = stageX[i] + ((lanes - 1) * laneW) / 2;
    out.push(`<text x="${cx}" y="${top - 24}" text-anchor="middle" fill="#555">stage ${i + 1}</text>`);
    out.push(
      `<text x="${cx}" y="${top - 10}" text-anchor="middle" font-family="monospace" fill="#000">${
        esc(formatLabel(net.masks[i], t))
      }</text>`,
    );
  }
  // Node lines and labels.
  for (let v = 0; v < N; v++) {
    const y = rowY(v);
    const text = esc(formatLabel(labelOfIndex(v, n, t), t));
    out.push(`<line x1="${labelW}" y1="${y}" x2="${right}" y2="${y}" stroke="#bbb" stroke-width="1"/>`);
    out.push(`<text x="${labelW - 6}" y="${y + 4}" text-anchor="end" font-family="monospace">${text}</text>`);
    out.push(`<text x="${right + 6}" y="${y + 4}" font-family="monospace">${text}</text>`);
  }
  // Switch bars; broken ones are drawn after the paths so that their marks stay on top.
  const brokenBars: string[] = [];
  for (let i = 0; i < L; i++) {
    const members = new Map<number, number[]>();
    for (let v = 0; v < N; v++) {
      const s = c.sw[i][v];
      members.set(s, [...(members.get(s) ?? []), v]);
    }
    for (const [s, rows] of members) {
      if (rows.length < 2) continue;
      const bx = barX(i, s);
      const y1 = rowY(rows[0]);
      const y2 = rowY(rows[rows.length - 1]);
      const broken = faulty.has(switchKey(net, { stage: i, node: labelOfIndex(s, n, t) }));
      if (broken) {
        const mid = (y1 + y2) / 2;
        brokenBars.push(
          `<line x1="${bx}" y1="${y1}" x2="${bx}" y2="${
            mid - 5
          }" stroke="#d62728" stroke-width="2.5" stroke-dasharray="4 3"/>`,
          `<line x1="${bx}" y1="${
            mid + 5
          }" x2="${bx}" y2="${y2}" stroke="#d62728" stroke-width="2.5" stroke-dasharray="4 3"/>`,
          `<path d="M${bx - 5},${mid - 5} l10,10 M${bx + 5},${
            mid - 5
          } l-10,10" stroke="#d62728" stroke-width="2.5"/>`,
        );
      } else {
        out.push(`<line x1="${bx}" y1="${y1}" x2="${bx}" y2="${y2}" stroke="#333" stroke-width="2"/>`);
      }
      for (const r of rows) {
        (broken ? brokenBars : out).push(
          `<circle cx="${bx}" cy="${rowY(r)}" r="3" fill="${broken ? "#d62728" : "#333"}"/>`,
        );
      }
    }
  }
  // Paths: each offset a little so that shared lines stay visible.
  // A path that uses a faulty switch in a mode ≠ 0 is broken: drawn dashed, named in the legend.
  const brokenAt = paths.map((p) =>
    p.modes.findIndex((s, i) => s !== 0 && faulty.has(switchKey(net, { stage: i, node: p.nodes[i] })))
  );
  paths.forEach((p, k) => {
    const off = (k - (paths.length - 1) / 2) * 3;
    const color = COLORS[k % COLORS.length];
    let v = indexOf(p.nodes[0], t);
    const pts: string[] = [`${labelW},${rowY(v) + off}`];
    for (let i = 0; i < L; i++) {
      const w = indexOf(p.nodes[i + 1], t);
      if (w !== v) {
        const bx = barX(i, v) + off;
        pts.push(`${bx},${rowY(v) + off}`, `${bx},${rowY(w) + off}`);
      }
      v = w;
    }
    pts.push(`${right},${rowY(v) + off}`);
    out.push(
      `<polyline points="${
        pts.join(" ")
      }" fill="none" stroke="${color}" stroke-width="3" stroke-opacity="0.85" stroke-linejoin="round"${
        brokenAt[k] >= 0 ? ` stroke-dasharray="7 4"` : ""
      }/>`,
    );
  });
  out.push(...brokenBars);
  // Legend.
  if (options.legend !== false) {
    let y = rowY(N - 1) + 30;
    paths.forEach((p, k) => {
      const color = COLORS[k % COLORS.length];
      const from = formatLabel(p.nodes[0], t);
      const to = formatLabel(p.nodes[p.nodes.length - 1], t);
      const dash = brokenAt[k] >= 0 ? ` stroke-dasharray="7 4"` : "";
      const state = brokenAt[k] >= 0
        ? ` — broken at stage ${brokenAt[k] + 1}`
        : faults.length > 0
        ? " — survives"
        : "";
      out.push(
        `<line x1="${labelW}" y1="${y - 4}" x2="${labelW + 24}" y2="${
          y - 4
        }" stroke="${color}" stroke-width="3"${dash}/>`,
      );
      out.push(
        `<text x="${labelW + 32}" y="${y}">path ${k + 1}: ${esc(from)} → ${esc(to)}, modes ${
          p.modes.join(" ")
        }${state}</text>`,
      );
      y += 18;
    });
    if (faults.length > 0) {
      out.push(
        `<line x1="${labelW}" y1="${y - 4}" x2="${labelW + 24}" y2="${
          y - 4
        }" stroke="#d62728" stroke-width="2.5" stroke-dasharray="4 3"/>`,
      );
      out.push(`<text x="${labelW + 32}" y="${y}">faulty switch (stuck straight) ×${faults.length}</text>`);
    }
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

function labelOfIndex(x: number, n: number, t: number): number[] {
  const d: number[] = [];
  for (let k = 0; k < n; k++) {
    d.push(x % t);
    x = Math.floor(x / t);
  }
  return d;
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
