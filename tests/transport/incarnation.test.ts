import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_INCARNATION } from "../../transport/codec.ts";
import { newIncarnation } from "../../transport/incarnation.ts";

describe("newIncarnation", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is a safe integer that grows with the wall clock, even across random bits", () => {
    const now = Date.now();
    const spy = vi.spyOn(Date, "now");
    for (let i = 0; i < 200; i++) {
      spy.mockReturnValue(now + i);
      const a = newIncarnation();
      spy.mockReturnValue(now + i + 1);
      const b = newIncarnation();
      expect(Number.isSafeInteger(a) && a >= 1).toBe(true);
      expect(b).toBeGreaterThan(a);
    }
  });

  it("stays below 2^53 for a long time", () => {
    vi.spyOn(Date, "now").mockReturnValue(Date.UTC(2160, 0, 1));
    expect(newIncarnation()).toBeLessThan(MAX_INCARNATION);
  });
});
