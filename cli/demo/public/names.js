// Member names and colours, the same in every tab.
const SERVER_COLORS = { alpha: "#0ea5e9", bravo: "#10b981", charlie: "#8b5cf6" };
const PALETTE = [
  "#f59e0b",
  "#ef4444",
  "#ec4899",
  "#14b8a6",
  "#f97316",
  "#64748b",
  "#84cc16",
  "#e11d48",
  "#6366f1",
  "#0891b2",
];

/** A stable colour for a node ID. */
export function colorOf(id) {
  if (id in SERVER_COLORS) return SERVER_COLORS[id];
  let h = 2166136261;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return PALETTE[h % PALETTE.length];
}

/** The label shown for a node ID. */
export function shortName(id) {
  return id;
}

/** `12:04:31` for a time. */
export function clock(t = Date.now()) {
  return new Date(t).toTimeString().slice(0, 8);
}
