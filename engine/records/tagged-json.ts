/**
 * Tagged JSON: a lossless JSON form of record values (record-values.ts), for the places that
 * must be JSON text — `stratus run --json` and the CLI's result lines, the params and range
 * bounds a stage descriptor carries, results and accumulator updates inline in executor events.
 *
 * JSON values stay as they are (strings — lone surrogates survive as `\udXXX` escapes — finite
 * numbers, booleans, null, arrays, plain objects); every other value is a one-property object
 * whose name starts with `$`:
 *   {"$undefined": true}                 undefined
 *   {"$number": "NaN" | "Infinity" | "-Infinity" | "-0"}
 *   {"$bigint": "-12345678901234567890"}
 *   {"$date": "2024-05-01T12:00:00.000Z"}  ({"$date": null} for an invalid Date)
 *   {"$Buffer": "<base64>"}              likewise $Uint8Array, $Float64Array… for each typed array
 *   {"$map": [[key, value], …]}           in insertion order
 *   {"$set": [value, …]}
 *   {"$object": {…}}                     a plain object that itself has exactly one property
 *                                        whose name starts with `$` (so it is never read as a tag)
 * A reader that knows nothing of the tags still gets valid JSON; `fromTaggedJson` turns it back
 * into the exact value. An undefined object property is written as {"$undefined": true}, not
 * dropped, and holes or unsupported values throw (check with unsupportedValue first).
 */
import { isSupportedBinary } from './record-values.js';

/** A JSON value: what JSON.parse returns. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const TYPED_ARRAYS: Readonly<Record<string, (bytes: Buffer) => ArrayBufferView>> = {
  Buffer: (b) => Buffer.from(b),
  Uint8Array: (b) => new Uint8Array(b),
  Int8Array: (b) => new Int8Array(copyOf(b)),
  Uint8ClampedArray: (b) => new Uint8ClampedArray(copyOf(b)),
  Int16Array: (b) => new Int16Array(copyOf(b)),
  Uint16Array: (b) => new Uint16Array(copyOf(b)),
  Int32Array: (b) => new Int32Array(copyOf(b)),
  Uint32Array: (b) => new Uint32Array(copyOf(b)),
  Float32Array: (b) => new Float32Array(copyOf(b)),
  Float64Array: (b) => new Float64Array(copyOf(b)),
  BigInt64Array: (b) => new BigInt64Array(copyOf(b)),
  BigUint64Array: (b) => new BigUint64Array(copyOf(b)),
};

/** The bytes in an ArrayBuffer of their own (typed arrays need their element alignment). */
function copyOf(bytes: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}

function typedArrayName(view: ArrayBufferView): string {
  return Buffer.isBuffer(view) ? 'Buffer' : view.constructor.name;
}

/** True for a plain object that tagged JSON must wrap in {"$object": …}: one property, named `$…`. */
function looksLikeTag(object: object): boolean {
  let count = 0;
  let first = '';
  for (const key in object) {
    if (count++ === 0) first = key;
    else return false;
  }
  return count === 1 && first.startsWith('$');
}

/** The tagged JSON form of a record value (see the file comment). Throws TypeError for an unsupported value. */
export function toTaggedJson(value: unknown): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return Object.is(value, -0) ? { $number: '-0' } : value;
      return { $number: String(value) };
    case 'bigint':
      return { $bigint: value.toString() };
    case 'undefined':
      return { $undefined: true };
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const out: JsonValue[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new TypeError(`tagged JSON: a hole at [${i}]`);
          out[i] = toTaggedJson(value[i]);
        }
        return out;
      }
      if (value instanceof Date) {
        return { $date: Number.isNaN(value.getTime()) ? null : value.toISOString() };
      }
      if (value instanceof Map)
        return { $map: [...value].map(([k, v]) => [toTaggedJson(k), toTaggedJson(v)]) };
      if (value instanceof Set) return { $set: [...value].map(toTaggedJson) };
      if (ArrayBuffer.isView(value) && isSupportedBinary(value)) {
        const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        return { [`$${typedArrayName(value)}`]: bytes.toString('base64') };
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`tagged JSON: an instance of ${value.constructor?.name ?? 'an unknown class'}`);
      }
      const out: { [key: string]: JsonValue } = {};
      for (const key of Object.keys(value)) {
        defineOwn(out, key, toTaggedJson((value as Record<string, unknown>)[key]));
      }
      return looksLikeTag(value) ? { $object: out } : out;
    }
    default:
      throw new TypeError(`tagged JSON: a ${typeof value}`);
  }
}

/** Set `object[key]` as an own property, `__proto__` included. */
function defineOwn<T>(object: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  } else object[key] = value;
}

function fromTag(tag: string, body: JsonValue): { value: unknown } | undefined {
  switch (tag) {
    case '$undefined':
      return { value: undefined };
    case '$number':
      return typeof body === 'string' ? { value: Number(body) } : undefined;
    case '$bigint':
      return typeof body === 'string' ? { value: BigInt(body) } : undefined;
    case '$date':
      return body === null || typeof body === 'string' ? { value: new Date(body ?? Number.NaN) } : undefined;
    case '$map':
      if (!Array.isArray(body)) return undefined;
      return {
        value: new Map(
          body.map((entry) => {
            const [k, v] = entry as [JsonValue, JsonValue];
            return [fromTaggedJson(k), fromTaggedJson(v)] as const;
          }),
        ),
      };
    case '$set':
      return Array.isArray(body) ? { value: new Set(body.map(fromTaggedJson)) } : undefined;
    case '$object':
      return typeof body === 'object' && body !== null && !Array.isArray(body)
        ? { value: plainFromTagged(body) }
        : undefined;
    default: {
      const make = TYPED_ARRAYS[tag.slice(1)];
      return make && typeof body === 'string' ? { value: make(Buffer.from(body, 'base64')) } : undefined;
    }
  }
}

function plainFromTagged(object: { [key: string]: JsonValue }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) defineOwn(out, key, fromTaggedJson(object[key]!));
  return out;
}

/** The value a tagged JSON form stands for (JSON.parse's output, or any JSON value). */
export function fromTaggedJson(json: JsonValue): unknown {
  if (typeof json !== 'object' || json === null) return json;
  if (Array.isArray(json)) return json.map(fromTaggedJson);
  const keys = Object.keys(json);
  if (keys.length === 1 && keys[0]!.startsWith('$')) {
    // An unknown `$…` name is not a tag we wrote: read it as the plain object it is.
    const tagged = fromTag(keys[0]!, json[keys[0]!]!);
    if (tagged) return tagged.value;
  }
  return plainFromTagged(json);
}

/** JSON text of a record value in tagged form. */
export function stringifyTagged(value: unknown, space?: number): string {
  return JSON.stringify(toTaggedJson(value), undefined, space);
}
