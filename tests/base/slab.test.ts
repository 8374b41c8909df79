/** Slab copies: equal to their source, independent of it and of each other, across slab boundaries. */
import { describe, expect, it } from "vitest";
import { SlabCopier } from "../../base/slab.ts";

describe("SlabCopier", () => {
  it("copies are equal to, and independent of, their sources and each other", () => {
    const copier = new SlabCopier();
    const source = new Uint8Array(100);
    const copies: Uint8Array[] = [];
    // 400 copies of 100 B fill more than two 16 KiB slabs.
    for (let i = 0; i < 400; i++) {
      source.fill(i & 0xff);
      copies.push(copier.copy(source));
    }
    source.fill(0xff);
    copies.forEach((c, i) => expect(c).toEqual(new Uint8Array(100).fill(i & 0xff)));
    // Writing one copy touches no other.
    copies[200].fill(0);
    expect(copies[199]).toEqual(new Uint8Array(100).fill(199));
    expect(copies[201]).toEqual(new Uint8Array(100).fill(201));
    // Small copies share slabs; the slabs roll over.
    expect(copies[0].buffer).toBe(copies[1].buffer);
    expect(new Set(copies.map((c) => c.buffer)).size).toBeGreaterThan(2);
  });

  it("gives large copies, and empty ones, buffers of their own size", () => {
    const copier = new SlabCopier();
    const big = new Uint8Array(5_000).fill(3);
    const copy = copier.copy(big);
    expect(copy).toEqual(big);
    expect(copy.buffer.byteLength).toBe(5_000);
    expect(copier.copy(new Uint8Array(0)).length).toBe(0);
  });
});
