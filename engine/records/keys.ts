/**
 * Keys: the values by which records are grouped, joined, partitioned and sorted.
 *
 * A key is a string, a number (NaN, Infinity and -Infinity included), a boolean, null, a bigint,
 * a valid Date, binary data (a Uint8Array or a Buffer), or an array of keys. Two keys are equal
 * exactly when their canonical strings are equal (`canonicalKey`); that string is also what
 * `hashKey` hashes, so equal keys land in the same hash partition on every executor and every
 * version. `-0` and `0` are the same key, all NaNs are one key (as Spark groups them), a
 * Buffer and a Uint8Array with the same bytes are the same key, and `1`, `1n` and `"1"` are three.
 * The canonical strings of JSON keys are their JSON (so their hashes never changed); the others
 * cannot be JSON: `NaN`, `Infinity`, `-Infinity`, `12n`, `@<epoch ms>` for a Date, `#<hex>` for bytes.
 *
 * Order (`compareKeys`): first by type, null < boolean < number < bigint < Date < string <
 * binary < array; then within a type: false < true; numbers numerically with NaN above
 * Infinity (Spark's order); bigints numerically; Dates by time; strings by UTF-16 code units
 * (as JS `<` does); binary by unsigned bytes, a prefix first; arrays element by element, a
 * prefix first. `compareKeys(a, b) === 0` exactly when `canonicalKey(a) === canonicalKey(b)`.
 */
import { StratusError } from '../../contract/errors.js';
import { murmur3 } from './murmur3.js';

/** A key: string, number, boolean, null, bigint, Date, binary (Uint8Array, Buffer), or an array of keys. */
export type Key = null | boolean | number | string | bigint | Date | Uint8Array | readonly Key[];

/**
 * A value used as a key is not a Key (undefined, an object, a Map, an invalid Date, a function…). Not
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
  if (typeof value === 'symbol') return `symbol ${String(value)}`;
  if (value instanceof Date) return 'an invalid Date';
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
    `invalid key ${describeBadKey(part)}${where}: keys must be strings, numbers, booleans, null, bigints, valid Dates, Uint8Arrays (Buffers) or arrays of these`,
  );
}

/** True for binary key data: a Uint8Array or a Buffer (not another typed array). */
function isBinaryKey(k: object): k is Uint8Array {
  const proto = Object.getPrototypeOf(k);
  return proto === Uint8Array.prototype || proto === Buffer.prototype;
}

/** The canonical text of a number key: JSON for finite numbers (-0 as 0), else NaN / Infinity / -Infinity. */
function numberText(k: number): string {
  // JSON.stringify gives the shortest round-trip form and already writes -0 as "0".
  return Number.isFinite(k) ? JSON.stringify(k) : String(k);
}

function appendCanonical(out: string[], k: unknown, whole: unknown): void {
  switch (typeof k) {
    case 'string':
      out.push(JSON.stringify(k));
      return;
    case 'number':
      out.push(numberText(k));
      return;
    case 'boolean':
      out.push(k ? 'true' : 'false');
      return;
    case 'bigint':
      out.push(`${k}n`);
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
      if (k instanceof Date && Object.getPrototypeOf(k) === Date.prototype) {
        const time = k.getTime();
        if (Number.isNaN(time)) throw badKey(whole, k);
        out.push(`@${time}`);
        return;
      }
      if (isBinaryKey(k)) {
        out.push(`#${Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('hex')}`);
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

const RANK_NULL = 0;
const RANK_BOOLEAN = 1;
const RANK_NUMBER = 2;
const RANK_BIGINT = 3;
const RANK_DATE = 4;
const RANK_STRING = 5;
const RANK_BINARY = 6;
const RANK_ARRAY = 7;

function typeRank(k: unknown, whole: unknown): number {
  switch (typeof k) {
    case 'boolean':
      return RANK_BOOLEAN;
    case 'number':
      return RANK_NUMBER;
    case 'bigint':
      return RANK_BIGINT;
    case 'string':
      return RANK_STRING;
    case 'object':
      if (k === null) return RANK_NULL;
      if (Array.isArray(k)) return RANK_ARRAY;
      if (k instanceof Date && Object.getPrototypeOf(k) === Date.prototype) {
        if (Number.isNaN(k.getTime())) throw badKey(whole, k);
        return RANK_DATE;
      }
      if (isBinaryKey(k)) return RANK_BINARY;
      throw badKey(whole, k);
    default:
      throw badKey(whole, k);
  }
}

/** Numbers in key order: numerically, -0 equal to 0, NaN equal to NaN and above everything else. */
function compareNumbers(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  // At least one NaN.
  const na = Number.isNaN(a);
  const nb = Number.isNaN(b);
  return na === nb ? 0 : na ? 1 : -1;
}

function compareIn(a: unknown, b: unknown, wa: unknown, wb: unknown): number {
  const ra = typeRank(a, wa);
  const rb = typeRank(b, wb);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case RANK_NULL:
      return 0;
    case RANK_NUMBER:
      return compareNumbers(a as number, b as number);
    case RANK_BOOLEAN:
    case RANK_BIGINT:
    case RANK_STRING:
      // Booleans compare false < true.
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case RANK_DATE:
      return compareNumbers((a as Date).getTime(), (b as Date).getTime());
    case RANK_BINARY:
      return Buffer.compare(a as Uint8Array, b as Uint8Array);
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
  // types first. Same order as compareIn: -0 and 0 are equal, NaN is above everything.
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return compareNumbers(a, b);
  return compareIn(a, b, a, b);
}
