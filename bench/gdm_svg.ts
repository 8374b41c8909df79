/**
 * The SVG chart of the GDM benchmark: CPU % per node against updates per second per node (log
 * scale), one line per item size, like figure 22.
 * @module
 */

/** A cell as the chart needs it. */
export interface ChartCell {
  size: number;
  rate: number;
  cpuPct: number;
}

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];

/** Renders the chart. */
export function chartSvg(cells: readonly ChartCell[], sizes: readonly number[]): string {
  const W = 720, H = 420, L = 60, R = 150, T = 30, B = 50;
  const pts = cells.filter((c) => c.rate > 0);
  const maxCpu = Math.max(1, ...pts.map((c) => c.cpuPct)) * 1.1;
  const x = (rate: number) => L + ((Math.log10(rate) - 1) / 3) * (W - L - R);
  const y = (cpu: number) => H - B - (cpu / maxCpu) * (H - T - B);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(
    `<text x="${L}" y="18" font-size="14">raincore GDM, 2 nodes over UDP: CPU per node vs. updates/s per node</text>`,
  );
  out.push(
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${
      H - B
    }" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
  );
  for (const r of [10, 100, 1000, 10000]) {
    out.push(
      `<line x1="${x(r)}" y1="${H - B}" x2="${x(r)}" y2="${H - B + 5}" stroke="black"/><text x="${x(r)}" y="${
        H - B + 18
      }" text-anchor="middle">${r}</text>`,
    );
  }
  out.push(
    `<text x="${(L + W - R) / 2}" y="${
      H - 10
    }" text-anchor="middle">updates per second per node (log)</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const v = (maxCpu * i) / 5;
    out.push(
      `<line x1="${L - 5}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 8}" y="${
        y(v) + 4
      }" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}</text>`,
    );
  }
  out.push(
    `<text transform="translate(16 ${
      (T + H - B) / 2
    }) rotate(-90)" text-anchor="middle">CPU % of one core, per node</text>`,
  );
  sizes.forEach((size, i) => {
    const line = pts.filter((c) => c.size === size).sort((a, b) => a.rate - b.rate);
    if (line.length === 0) return;
    const color = COLORS[i % COLORS.length];
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${
        line.map((c) => `${x(c.rate).toFixed(1)},${y(c.cpuPct).toFixed(1)}`).join(" ")
      }"/>`,
    );
    for (const c of line) {
      out.push(`<circle cx="${x(c.rate).toFixed(1)}" cy="${y(c.cpuPct).toFixed(1)}" r="3" fill="${color}"/>`);
    }
    const label = size >= 1024 ? `${size / 1024} KB` : `${size} B`;
    out.push(
      `<rect x="${W - R + 15}" y="${T + i * 20}" width="12" height="12" fill="${color}"/><text x="${
        W - R + 32
      }" y="${T + i * 20 + 10}">${label}</text>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
