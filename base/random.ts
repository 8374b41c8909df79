/**
 * A small seeded PRNG (xoshiro128**, seeded through splitmix32) so that every simulated run is a
 * pure function of its seed. Not for cryptography.
 * @module
 */

/** Deterministic pseudo-random numbers from a 32-bit seed. */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** The seed this generator started from. */
  readonly seed: number;
  /** A generator seeded with `seed`: any integer; equal seeds give equal sequences. */
  constructor(seed: number) {
    this.seed = seed;
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next() | 1;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick() needs a non-empty array");
    return items[this.int(items.length)];
  }

  /** An independent generator derived from this one (so adding draws in one place does not shift another). */
  fork(): Random {
    return new Random(this.uint32());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
