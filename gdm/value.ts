/**
 * Values of data items: any structured-clone-able value or bytes, stored encoded with CBOR
 * (cbor-x) so that every replica holds the same bytes, plus the two kinds of partial update:
 * a byte range of a binary value and a path into a structured value.
 *
 * The key `"__proto__"` is refused, in values and in patch paths ({@link PatchError}): cbor-x
 * renames it to `"__proto_"` when it decodes (its guard against prototype pollution), so replicas
 * would hold another value than the writer meant; and a patch path through it would reach
 * `Object.prototype` and change every object of every replica.
 * @module
 */
import { Encoder } from "cbor-x/encode";
import { PatchError } from "./errors.ts";

const cbor = new Encoder({ useRecords: false, structuredClone: true, mapsAsObjects: true });

/** The one object key a value may not use; see the module documentation. */
const FORBIDDEN_KEY = "__proto__";

/**
 * Encodes a value (structured-clone-able data or bytes) to CBOR.
 * @throws {PatchError} when an object in it has the key `"__proto__"`.
 */
export function encodeValue(value: unknown): Uint8Array {
  checkKeys(value, [], new Set());
  return cbor.encode(value);
}

function forbidden(path: Path): PatchError {
  return new PatchError(
    `the key "${FORBIDDEN_KEY}" (at ${JSON.stringify(path)}) cannot be stored: cbor-x renames it on decode ` +
      `and a path through it reaches Object.prototype; use another key`,
  );
}

/** Throws when an object inside `value` (plain objects, arrays, maps) has the forbidden key. */
function checkKeys(value: unknown, path: Path, seen: Set<object>): void {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value) || seen.has(value)) return;
  seen.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (k === FORBIDDEN_KEY) throw forbidden([...path, k]);
      checkKeys(v, [...path, String(k)], seen);
    }
  } else if (value instanceof Set) {
    for (const v of value) checkKeys(v, path, seen);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkKeys(v, [...path, i], seen));
  } else if (!(value instanceof Date) && !(value instanceof RegExp)) {
    for (const k of Object.keys(value)) {
      if (k === FORBIDDEN_KEY) throw forbidden([...path, k]);
      checkKeys((value as Record<string, unknown>)[k], [...path, k], seen);
    }
  }
}

/** Decodes a value encoded by {@link encodeValue}. */
export function decodeValue(bytes: Uint8Array): unknown {
  return cbor.decode(bytes);
}

/** A path into a structured value: object keys and array indices. */
export type Path = readonly (string | number)[];

/** A partial update: bytes written at `offset` of a binary value, or a value set (or removed) at `path`. */
export type Patch =
  | { readonly offset: number; readonly bytes: Uint8Array }
  | { readonly path: Path; readonly value?: unknown; readonly remove?: boolean };

/**
 * Applies a patch to an encoded value and returns the new encoded value. A byte patch past the end
 * extends the value (zero-filled gap). A path patch creates missing objects along the path.
 * @throws {PatchError} when the patch does not fit the value.
 */
export function applyPatch(old: Uint8Array | undefined, patch: Patch): Uint8Array {
  if ("offset" in patch) {
    const cur = old === undefined ? new Uint8Array(0) : decodeValue(old);
    if (!(cur instanceof Uint8Array)) throw new PatchError("byte patch of a value that is not bytes");
    if (!Number.isInteger(patch.offset) || patch.offset < 0) {
      throw new PatchError("byte patch offset must be a non-negative integer");
    }
    const end = patch.offset + patch.bytes.length;
    const out = new Uint8Array(Math.max(cur.length, end));
    out.set(cur);
    out.set(patch.bytes, patch.offset);
    return encodeValue(out);
  }
  if (patch.path.length === 0) {
    if (patch.remove) throw new PatchError("cannot remove the root with a patch; use delete()");
    return encodeValue(patch.value);
  }
  const bad = patch.path.indexOf(FORBIDDEN_KEY);
  if (bad >= 0) throw forbidden(patch.path.slice(0, bad + 1));
  const root = old === undefined ? {} : decodeValue(old);
  if (!isContainer(root)) throw new PatchError("path patch of a value that is not an object or array");
  let node: Record<string | number, unknown> = root;
  for (let i = 0; i < patch.path.length - 1; i++) {
    const k = patch.path[i];
    let next = Object.hasOwn(node, k) ? node[k] : undefined; // never an inherited property
    if (next === undefined || next === null) {
      next = {};
      node[k] = next;
    }
    if (!isContainer(next)) {
      throw new PatchError(
        `path patch through a non-object at ${JSON.stringify(patch.path.slice(0, i + 1))}`,
      );
    }
    node = next;
  }
  const last = patch.path[patch.path.length - 1];
  if (patch.remove) {
    if (Array.isArray(node) && typeof last === "number") node.splice(last, 1);
    else delete node[last];
  } else node[last] = patch.value;
  return encodeValue(root);
}

function isContainer(v: unknown): v is Record<string | number, unknown> {
  return typeof v === "object" && v !== null && !(v instanceof Uint8Array) && !(v instanceof Date);
}

/** Byte-wise comparison (deterministic tie-break between two encodings). */
export function compareBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
