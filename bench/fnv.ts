/**
 * 64-bit FNV-1a over a stream of 32-bit words, in two 32-bit halves (no BigInt on the hot path).
 * Equal hashes of delivery sequences on every member prove one total order.
 * @module
 */

/** Running FNV-1a 64 hash. */
export class Fnv64 {
  #hi = 0xcbf29ce4;
  #lo = 0x84222325;

  /** Feeds the four bytes of `word` (little-endian). */
  addWord(word: number): void {
    for (let i = 0; i < 4; i++) this.#addByte((word >>> (8 * i)) & 0xff);
  }

  #addByte(byte: number): void {
    const lo = (this.#lo ^ byte) >>> 0;
    // multiply (hi, lo) by the FNV prime 2^40 + 0x1b3
    const loProduct = lo * 0x1b3;
    const carry = Math.floor(loProduct / 0x1_0000_0000);
    this.#lo = loProduct >>> 0;
    this.#hi = (Math.imul(this.#hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
  }

  /** The hash as 16 hex digits. */
  hex(): string {
    return this.#hi.toString(16).padStart(8, "0") + this.#lo.toString(16).padStart(8, "0");
  }
}
