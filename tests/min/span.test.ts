import { describe, expect, it } from "vitest";
import {
  cyclicMasks,
  formatLabel,
  indexOf,
  labelOf,
  parseLabel,
  routingTag,
  spans,
  spanSize,
} from "../../min/mod.ts";
import { add, cases, groupSpan, key, randomLabel } from "./_helpers.ts";

describe("labels", () => {
  it("labelOf and indexOf are inverse, digit 0 least significant", () => {
    for (const [n, t] of [[3, 2], [2, 3], [3, 4], [2, 5]]) {
      for (let x = 0; x < t ** n; x++) expect(indexOf(labelOf(x, n, t), t)).toBe(x);
    }
    expect(labelOf(6, 3, 2)).toEqual([0, 1, 1]); // the thesis's node 110
    expect(formatLabel([0, 1, 1], 2)).toBe("110");
    expect(parseLabel("110", 3, 2)).toEqual([0, 1, 1]);
    expect(parseLabel("20", 2, 3)).toEqual([0, 2]);
  });

  it("rejects bad arguments with RangeError/TypeError", () => {
    expect(() => labelOf(8, 3, 2)).toThrow(RangeError);
    expect(() => labelOf(0, 0, 2)).toThrow(/'n'/);
    expect(() => labelOf(0, 3, 1)).toThrow(/'t'/);
    expect(() => indexOf([0, 2], 2)).toThrow(/digit 1/);
    expect(() => parseLabel("12", 2, 2)).toThrow(RangeError);
    expect(() => spans([[1, 0, 0]], 2, 2)).toThrow(/mask 0 must have n = 2 digits/);
    expect(() => spans("x" as never, 2, 2)).toThrow(TypeError);
    expect(() => cyclicMasks(3, -1)).toThrow(/'f'/);
  });
});

describe("spans over Z_t (prime and composite t)", () => {
  it("cyclic masks: every n consecutive span, n-1 do not", () => {
    const m = cyclicMasks(3, 4);
    expect(m.map((x) => formatLabel(x, 2))).toEqual(["001", "010", "100", "001", "010", "100", "001"]);
    expect(spans(m.slice(2, 5), 3, 2)).toBe(true);
    expect(spans(m.slice(2, 4), 3, 2)).toBe(false);
  });

  it("composite t: [2] does not span Z_4, [2, 1] generates only 4 of 16", () => {
    expect(spans([[2]], 1, 4)).toBe(false);
    expect(spanSize([[2]], 1, 4)).toBe(2);
    expect(spans([[3]], 1, 4)).toBe(true);
    expect(spanSize([[2, 1]], 2, 4)).toBe(4);
    expect(spans([[2, 1], [1, 2]], 2, 4)).toBe(true); // det 3 is a unit mod 4
    expect(spans([[2, 1], [1, 1]], 2, 4)).toBe(true); // det 1
    expect(spans([[2, 0], [1, 2]], 2, 4)).toBe(false); // det 4 ≡ 0
  });

  it("spanSize and spans agree with BFS over the group (random masks, t = 2..6)", () => {
    cases("spanSize", 300, (rng) => {
      const t = rng.between(2, 6);
      const n = rng.between(1, t <= 3 ? 4 : 3);
      const masks = Array.from({ length: rng.between(0, n + 2) }, () => randomLabel(rng, n, t));
      const size = groupSpan(masks, n, t).size;
      expect(spanSize(masks, n, t)).toBe(size);
      expect(spans(masks, n, t)).toBe(size === t ** n);
    });
  });

  it("routingTag decomposes exactly when the difference is in the span", () => {
    cases("routingTag", 300, (rng) => {
      const t = rng.between(2, 6);
      const n = rng.between(1, 3);
      const masks = Array.from({ length: rng.between(1, n + 1) }, () => randomLabel(rng, n, t));
      const from = randomLabel(rng, n, t);
      const to = randomLabel(rng, n, t);
      const tag = routingTag(masks, from, to, t);
      const diff = to.map((d, k) => (d - from[k] + t) % t);
      expect(tag !== null).toBe(groupSpan(masks, n, t).has(key(diff)));
      if (tag !== null) {
        let x: number[] = from;
        tag.forEach((c, i) => {
          expect(c).toBeGreaterThanOrEqual(0);
          expect(c).toBeLessThan(t);
          x = add(x, masks[i], c, t);
        });
        expect(x).toEqual(to);
      }
    });
  });

  it("routing tag of the thesis's figure 24: 000 → 110 over 001, 010, 100 is (0, 1, 1)", () => {
    expect(routingTag(cyclicMasks(3, 0), [0, 0, 0], [0, 1, 1], 2)).toEqual([0, 1, 1]);
  });
});
