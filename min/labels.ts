/**
 * Node labels and argument checks. A label is an array of `n` digits, digit 0 the least
 * significant, so `indexOf(labelOf(i, n, t), t) === i`. `formatLabel`/`parseLabel` convert to the
 * thesis's text form, most significant digit first ("110" is `[0, 1, 1]`).
 * @module
 */

import type { Label, Network } from "./types.ts";

/**
 * Largest switch size accepted. Arithmetic multiplies two digits, so `t²` must stay an exact
 * double; 65536 keeps every product far below 2^53.
 */
export const MAX_T = 65536;

/** Checks `t` is an integer switch size in `2..MAX_T`. */
export function checkT(t: number): void {
  if (!Number.isInteger(t) || t < 2 || t > MAX_T) {
    throw new RangeError(`'t' must be an integer in 2..${MAX_T}, got ${t}`);
  }
}

/** Checks `n` is a positive integer dimension. */
export function checkN(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(`'n' must be an integer in 1..1024, got ${n}`);
  }
}

/** Checks `label` is an array of `n` integer digits in `0..t-1`; `what` names it in the message. */
export function checkLabel(label: Label, n: number, t: number, what = "label"): void {
  if (!Array.isArray(label)) throw new TypeError(`${what} must be an array of ${n} digits`);
  if (label.length !== n) {
    throw new RangeError(`${what} must have n = ${n} digits, got ${label.length}`);
  }
  for (let k = 0; k < n; k++) {
    const d = label[k];
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0 || d >= t) {
      throw new RangeError(`${what} digit ${k} must be an integer in 0..${t - 1}, got ${String(d)}`);
    }
  }
}

/** Checks a whole network value: `n`, `t` and every mask. */
export function checkNetwork(net: Network): void {
  if (net === null || typeof net !== "object") {
    throw new TypeError("network must be an object { n, t, masks }");
  }
  checkN(net.n);
  checkT(net.t);
  if (!Array.isArray(net.masks)) throw new TypeError("'masks' must be an array of labels");
  net.masks.forEach((m, i) => checkLabel(m, net.n, net.t, `mask of stage ${i}`));
}

/** The label of node `index` (digit 0 least significant). */
export function labelOf(index: number, n: number, t: number): number[] {
  checkN(n);
  checkT(t);
  if (!Number.isSafeInteger(index) || index < 0 || index >= t ** n) {
    throw new RangeError(`node index must be an integer in 0..t^n-1 = ${t ** n - 1}, got ${index}`);
  }
  const digits: number[] = [];
  for (let k = 0; k < n; k++) {
    digits.push(index % t);
    index = Math.floor(index / t);
  }
  return digits;
}

/** The index of a label: `Σ label[k]·t^k`. */
export function indexOf(label: Label, t: number): number {
  checkT(t);
  checkLabel(label, label.length, t);
  let index = 0;
  for (let k = label.length - 1; k >= 0; k--) index = index * t + label[k];
  if (!Number.isSafeInteger(index)) throw new RangeError("label too long for a safe integer index");
  return index;
}

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * The thesis's text form of a label, most significant digit first ("110" for `[0, 1, 1]`). For
 * `t ≤ 36` one character per digit; above that, digits joined by dots.
 */
export function formatLabel(label: Label, t: number): string {
  const msbFirst = [...label].reverse();
  return t <= 36 ? msbFirst.map((d) => DIGITS[d]).join("") : msbFirst.join(".");
}

/** Parses {@link formatLabel}'s text form back into a label of `n` digits. */
export function parseLabel(text: string, n: number, t: number): number[] {
  checkN(n);
  checkT(t);
  const parts = text.includes(".") || t > 36 ? text.split(".") : [...text];
  const digits = parts.map((
    p,
  ) => (t > 36 || text.includes(".") ? Number(p) : DIGITS.indexOf(p.toLowerCase())));
  if (digits.length !== n || digits.some((d) => !Number.isInteger(d) || d < 0 || d >= t)) {
    throw new RangeError(`"${text}" is not a label of ${n} digits in 0..${t - 1} (most significant first)`);
  }
  return digits.reverse();
}

/** Component-wise `a + s·b` mod `t`. */
export function addScaled(a: Label, b: Label, s: number, t: number): number[] {
  return a.map((d, k) => (d + s * b[k]) % t);
}

/** Component-wise `a - b` mod `t`. */
export function subtract(a: Label, b: Label, t: number): number[] {
  return a.map((d, k) => (d - b[k] + t) % t);
}
