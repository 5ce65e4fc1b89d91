/**
 * Keys: the values by which records are grouped, joined, partitioned and sorted.
 *
 * A key is a JSON-like value: a string, a finite number, a boolean, null, or an array of
 * keys. Two keys are equal exactly when their canonical strings are equal
 * (`canonicalKey`); that string is also what `hashKey` hashes, so equal keys land in the
 * same hash partition on every executor and every version. `-0` and `0` are the same key.
 *
 * Order (`compareKeys`): first by type, null < boolean < number < string < array; then
 * within a type: false < true, numbers numerically, strings by UTF-16 code units (as JS
 * `<` does), arrays lexicographically element by element (a prefix sorts first).
 * `compareKeys(a, b) === 0` exactly when `canonicalKey(a) === canonicalKey(b)`.
 */
import { StratusError } from '../../contract/errors.js';
import { murmur3 } from './murmur3.js';

/** A JSON-like key: string, finite number, boolean, null, or an array of keys. */
export type Key = null | boolean | number | string | readonly Key[];

/**
 * A value used as a key is not a Key (NaN, Infinity, undefined, an object, a function…). Not
 * retryable: the same records give the same key on every attempt.
 */
export class InvalidKeyError extends StratusError {
  constructor(message: string) {
    super('INVALID_KEY', message);
    this.name = 'InvalidKeyError';
  }
}

function describeBadKey(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'symbol' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (typeof value === 'object' && value !== null) {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    let text: string;
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
    return `${ctor && ctor !== 'Object' ? `${ctor} ` : 'object '}${text.slice(0, 80)}`;
  }
  return String(value);
}

function badKey(whole: unknown, part: unknown): InvalidKeyError {
  const where = whole === part ? '' : ` (in key ${describeBadKey(whole)})`;
  return new InvalidKeyError(
    `invalid key ${describeBadKey(part)}${where}: keys must be strings, finite numbers, booleans, null or arrays of these`,
  );
}

function appendCanonical(out: string[], k: unknown, whole: unknown): void {
  switch (typeof k) {
    case 'string':
      out.push(JSON.stringify(k));
      return;
    case 'number':
      if (!Number.isFinite(k)) throw badKey(whole, k);
      // JSON.stringify gives the shortest round-trip form and already writes -0 as "0".
      out.push(JSON.stringify(k));
      return;
    case 'boolean':
      out.push(k ? 'true' : 'false');
      return;
    case 'object':
      if (k === null) {
        out.push('null');
        return;
      }
      if (Array.isArray(k)) {
        out.push('[');
        for (let i = 0; i < k.length; i++) {
          if (i > 0) out.push(',');
          appendCanonical(out, k[i], whole);
        }
        out.push(']');
        return;
      }
      throw badKey(whole, k);
    default:
      throw badKey(whole, k);
  }
}

/** The canonical string of a key: equal keys, and only equal keys, have equal strings. Throws InvalidKeyError. */
export function canonicalKey(k: unknown): string {
  if (typeof k === 'string') return JSON.stringify(k);
  const out: string[] = [];
  appendCanonical(out, k, k);
  return out.join('');
}

/** True when `k` is a valid Key. */
export function isKey(k: unknown): k is Key {
  try {
    canonicalKey(k);
    return true;
  } catch {
    return false;
  }
}

/** A uint32 hash of a key: murmur3 (x86, 32-bit, seed 0) over the UTF-8 bytes of its canonical string. Stable forever. */
export function hashKey(k: unknown): number {
  return murmur3(Buffer.from(canonicalKey(k), 'utf8'), 0);
}

function typeRank(k: unknown, whole: unknown): number {
  switch (typeof k) {
    case 'boolean':
      return 1;
    case 'number':
      if (!Number.isFinite(k)) throw badKey(whole, k);
      return 2;
    case 'string':
      return 3;
    case 'object':
      if (k === null) return 0;
      if (Array.isArray(k)) return 4;
      throw badKey(whole, k);
    default:
      throw badKey(whole, k);
  }
}

function compareIn(a: unknown, b: unknown, wa: unknown, wb: unknown): number {
  const ra = typeRank(a, wa);
  const rb = typeRank(b, wb);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return 0;
    case 1:
    case 2:
    case 3:
      // Booleans compare false < true; -0 and 0 compare equal.
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    default: {
      const xa = a as unknown[];
      const xb = b as unknown[];
      const n = Math.min(xa.length, xb.length);
      for (let i = 0; i < n; i++) {
        const c = compareIn(xa[i], xb[i], wa, wb);
        if (c !== 0) return c;
      }
      return xa.length === xb.length ? 0 : xa.length < xb.length ? -1 : 1;
    }
  }
}

/** Total order on keys (see the file comment): negative, 0 or positive. Throws InvalidKeyError. */
export function compareKeys(a: unknown, b: unknown): number {
  // Two strings or two numbers (nearly every sort) compare directly; everything else ranks
  // types first. Same order as compareIn: -0 and 0 are equal, NaN never gets here unchecked.
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b)) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return compareIn(a, b, a, b);
}
