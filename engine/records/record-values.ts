/**
 * Record values: what a record may hold, checked before it is encoded. Records (and keys,
 * broadcast values, params, action results) round-trip exactly through every path a record
 * travels — shuffle segments, spill runs, cached partitions, broadcast blobs, results — when
 * they are made of:
 *   - undefined, null, booleans, strings (any UTF-16, lone surrogates included);
 *   - numbers, all of them: NaN, Infinity, -Infinity and -0 included;
 *   - bigints of any size;
 *   - Dates (an invalid Date too);
 *   - binary data: Buffer, Uint8Array and the other typed arrays, each arriving as its own type;
 *   - dense arrays, plain objects (prototype Object.prototype or null; they arrive as ordinary
 *     objects, own enumerable string-keyed properties only), Maps and Sets of the above, nested
 *     at most MAX_NESTING deep.
 * Anything else — functions, symbols, class instances (Error, RegExp, WeakMap, Promise, boxed
 * primitives, ArrayBuffer, DataView, your own classes), sparse arrays, cycles — is refused, and
 * `unsupportedValue` names where it is (`record[2].items.get("x"): a function (f)`). A value
 * reached twice without a cycle arrives as two copies, as JSON would make it.
 *
 * The check is split in two for the hot path: `classifyValue` is an allocation-free walk that
 * says whether a value is supported and whether the binary codec can write it as it is (-0,
 * strings with lone surrogates and objects with a `__proto__` or ill-formed property name need
 * the substitutes of `substituteValue`, which the codec writes as extension types); only a
 * refused value pays for the walk that builds its path.
 */

/** How deep records may nest (arrays, objects, Maps, Sets); deeper is refused, so no codec overflows its stack. */
export const MAX_NESTING = 512;

/** classifyValue: supported, written as it is. */
export const PLAIN = 0;
/** classifyValue: supported, but holds a value the binary codec writes through substituteValue. */
export const NEEDS_SUBSTITUTE = 1;
/** classifyValue: not supported (unsupportedValue says where and why). */
export const UNSUPPORTED = 2;

/** The typed-array classes records may hold, by prototype (Buffer's included: it arrives as a Buffer). */
const TYPED_ARRAY_PROTOTYPES: ReadonlySet<object> = new Set<object>([
  Buffer.prototype,
  Uint8Array.prototype,
  Int8Array.prototype,
  Uint8ClampedArray.prototype,
  Int16Array.prototype,
  Uint16Array.prototype,
  Int32Array.prototype,
  Uint32Array.prototype,
  Float32Array.prototype,
  Float64Array.prototype,
  BigInt64Array.prototype,
  BigUint64Array.prototype,
]);

/** True for a Buffer or a typed array of a supported class (not a subclass of one). */
export function isSupportedBinary(value: object): value is ArrayBufferView {
  return TYPED_ARRAY_PROTOTYPES.has(Object.getPrototypeOf(value));
}

/**
 * PLAIN, NEEDS_SUBSTITUTE or UNSUPPORTED for `value` (see the file comment). Allocation-free:
 * the codec calls it for every record it encodes.
 */
export function classifyValue(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed() ? PLAIN : NEEDS_SUBSTITUTE;
    case 'number':
      // -0 is the only number MessagePack's integer forms would turn into another (0).
      return value === 0 && 1 / value < 0 ? NEEDS_SUBSTITUTE : PLAIN;
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return PLAIN;
    case 'object': {
      if (value === null) return PLAIN;
      // Deeper than allowed, or a cycle: unsupportedValue tells which.
      if (depth >= MAX_NESTING) return UNSUPPORTED;
      const proto = Object.getPrototypeOf(value);
      let verdict = PLAIN;
      if (proto === Array.prototype) {
        const list = value as unknown[];
        for (let i = 0; i < list.length; i++) {
          const item = list[i];
          if (item === undefined && !(i in list)) return UNSUPPORTED;
          const v = classifyValue(item, depth + 1);
          if (v > verdict) {
            if (v === UNSUPPORTED) return v;
            verdict = v;
          }
        }
        return verdict;
      }
      if (proto === Object.prototype || proto === null) {
        for (const key in value) {
          if (key === '__proto__' || !key.isWellFormed()) verdict = NEEDS_SUBSTITUTE;
          const v = classifyValue((value as Record<string, unknown>)[key], depth + 1);
          if (v > verdict) {
            if (v === UNSUPPORTED) return v;
            verdict = v;
          }
        }
        return verdict;
      }
      if (proto === Date.prototype) return PLAIN;
      if (proto === Map.prototype) {
        for (const [k, v] of value as Map<unknown, unknown>) {
          const worst = Math.max(classifyValue(k, depth + 1), classifyValue(v, depth + 1));
          if (worst === UNSUPPORTED) return worst;
          if (worst > verdict) verdict = worst;
        }
        return verdict;
      }
      if (proto === Set.prototype) {
        for (const v of value as Set<unknown>) {
          const c = classifyValue(v, depth + 1);
          if (c === UNSUPPORTED) return c;
          if (c > verdict) verdict = c;
        }
        return verdict;
      }
      return TYPED_ARRAY_PROTOTYPES.has(proto) ? PLAIN : UNSUPPORTED;
    }
    default:
      return UNSUPPORTED;
  }
}

/** A short text of a Map key for a path: `"x"`, `3`, `12n`, `Date(…)`; `…` for anything long or nested. */
function mapKeyText(key: unknown): string {
  switch (typeof key) {
    case 'string':
      return key.length > 40 ? `${JSON.stringify(key.slice(0, 40)).slice(0, -1)}…"` : JSON.stringify(key);
    case 'number':
      return Object.is(key, -0) ? '-0' : String(key);
    case 'bigint':
      return `${key}n`;
    case 'boolean':
    case 'undefined':
      return String(key);
    default:
      if (key === null) return 'null';
      if (key instanceof Date) return `Date(${Number.isNaN(key.getTime()) ? 'invalid' : key.toISOString()})`;
      return '…';
  }
}

/** `.name` for an identifier-like property name, `["odd name"]` otherwise. */
function propertyText(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** What an unsupported value is, for messages: `a function (f)`, `an instance of Point`… */
export function describeUnsupported(value: unknown): string {
  switch (typeof value) {
    case 'function':
      return value.name ? `a function (${value.name})` : 'a function';
    case 'symbol':
      return `a symbol (${String(value)})`;
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof ArrayBuffer) return 'an ArrayBuffer (wrap it in a Uint8Array)';
      if (value instanceof DataView) return 'a DataView (use a Uint8Array)';
      const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
      return `an instance of ${ctor || 'an unknown class'} (class instances are not carried: use a plain object, Map, Set, Date or typed array)`;
    }
    default:
      return typeof value;
  }
}

/**
 * Where `value` stops being a supported record value, as `<path>: <what>` (`record[2].items.get("x"): a
 * function (f)`), with `root` naming the value itself; undefined when all of it is supported.
 */
export function unsupportedValue(value: unknown, root = 'record'): string | undefined {
  const ancestors = new Set<object>();
  const visit = (v: unknown, path: string, depth: number): string | undefined => {
    const type = typeof v;
    if (type === 'function' || type === 'symbol') return `${path}: ${describeUnsupported(v)}`;
    if (type !== 'object' || v === null) return undefined;
    const object = v as object;
    if (ancestors.has(object)) return `${path}: a cycle (the value contains itself)`;
    if (depth >= MAX_NESTING) return `${path}: nested deeper than ${MAX_NESTING} levels`;
    const proto = Object.getPrototypeOf(object);
    ancestors.add(object);
    try {
      if (proto === Array.prototype) {
        const list = object as unknown[];
        for (let i = 0; i < list.length; i++) {
          if (!(i in list)) return `${path}[${i}]: a hole (sparse arrays are not carried)`;
          const bad = visit(list[i], `${path}[${i}]`, depth + 1);
          if (bad) return bad;
        }
        return undefined;
      }
      if (proto === Object.prototype || proto === null) {
        for (const key in object) {
          const bad = visit(
            (object as Record<string, unknown>)[key],
            `${path}${propertyText(key)}`,
            depth + 1,
          );
          if (bad) return bad;
        }
        return undefined;
      }
      if (proto === Map.prototype) {
        let i = 0;
        for (const [k, item] of object as Map<unknown, unknown>) {
          const bad =
            visit(k, `${path}.keys()[${i}]`, depth + 1) ??
            visit(item, `${path}.get(${mapKeyText(k)})`, depth + 1);
          if (bad) return bad;
          i++;
        }
        return undefined;
      }
      if (proto === Set.prototype) {
        let i = 0;
        for (const item of object as Set<unknown>) {
          const bad = visit(item, `${path}.values()[${i}]`, depth + 1);
          if (bad) return bad;
          i++;
        }
        return undefined;
      }
      if (proto === Date.prototype || TYPED_ARRAY_PROTOTYPES.has(proto)) return undefined;
      return `${path}: ${describeUnsupported(object)}`;
    } finally {
      ancestors.delete(object);
    }
  };
  return visit(value, root, 0);
}

/** The substitute of -0 the binary codec writes (an extension type). */
export class NegativeZero {}
/** The one NegativeZero. */
export const NEGATIVE_ZERO = new NegativeZero();

/** The substitute of a string with lone surrogates (UTF-8 cannot hold them): its UTF-16 code units. */
export class IllFormedString {
  constructor(readonly text: string) {}
}

/** The substitute of a plain object whose property names the codec cannot write as a record (`__proto__`, lone surrogates). */
export class EntriesObject {
  /** Alternating names and (substituted) values. */
  constructor(readonly entries: unknown[]) {}
}

/**
 * A copy of a NEEDS_SUBSTITUTE value in which -0, ill-formed strings and objects with awkward
 * property names are replaced by NEGATIVE_ZERO, IllFormedString and EntriesObject; the codec
 * decodes them back. Only for values classifyValue accepted.
 */
export function substituteValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed() ? value : new IllFormedString(value);
    case 'number':
      return value === 0 && 1 / value < 0 ? NEGATIVE_ZERO : value;
    case 'object': {
      if (value === null) return value;
      const proto = Object.getPrototypeOf(value);
      if (proto === Array.prototype) return (value as unknown[]).map(substituteValue);
      if (proto === Object.prototype || proto === null) {
        const keys = Object.keys(value);
        const awkward = keys.some((k) => k === '__proto__' || !k.isWellFormed());
        if (awkward) {
          const entries: unknown[] = [];
          for (const k of keys)
            entries.push(substituteValue(k), substituteValue((value as Record<string, unknown>)[k]));
          return new EntriesObject(entries);
        }
        const copy: Record<string, unknown> = {};
        for (const k of keys) copy[k] = substituteValue((value as Record<string, unknown>)[k]);
        return copy;
      }
      if (proto === Map.prototype) {
        const copy = new Map<unknown, unknown>();
        for (const [k, v] of value as Map<unknown, unknown>) copy.set(substituteValue(k), substituteValue(v));
        return copy;
      }
      if (proto === Set.prototype) return new Set([...(value as Set<unknown>)].map(substituteValue));
      return value;
    }
    default:
      return value;
  }
}

/** An object from EntriesObject's alternating names and values; `__proto__` becomes an own property. */
export function objectFromEntries(entries: readonly unknown[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let i = 0; i + 1 < entries.length; i += 2) {
    Object.defineProperty(object, String(entries[i]), {
      value: entries[i + 1],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}
