/** fast-check arbitraries shared by the engine tests. */
import fc from 'fast-check';
import type { Key } from '../../engine/records/keys.js';

/** Valid Dates (ms since the epoch within the Date range), as keys allow them. */
const dateArb = fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => new Date(ms));

/** Binary keys: a Uint8Array or a Buffer of up to 6 bytes. */
const binaryKeyArb = fc
  .tuple(fc.uint8Array({ maxLength: 6 }), fc.boolean())
  .map(([bytes, asBuffer]) => (asBuffer ? Buffer.from(bytes) : bytes));

/** Arbitrary valid keys of every key type, nested up to depth 3. */
export const keyArb: fc.Arbitrary<Key> = fc.letrec<{ key: Key }>((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer({ min: -5, max: 5 }),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
    dateArb,
    binaryKeyArb,
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.array(tie('key'), { maxLength: 3 }),
  ),
})).key;

const typedArrayArb = fc.oneof(
  fc.uint8Array({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
  fc.int16Array({ maxLength: 4 }),
  fc.float64Array({ maxLength: 4 }),
  fc.bigInt64Array({ maxLength: 3 }),
);

/** Plain-object property names, some of them awkward (`__proto__`, a lone surrogate, `$date`). */
const propertyNameArb = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom('__proto__', '\ud800', '$date', 'toJSON'),
);

/**
 * Arbitrary record values of every supported type (docs/concepts.md, "Record values"): all
 * numbers, bigints, strings with lone surrogates, Dates (invalid ones too), typed arrays,
 * undefined, arrays, plain objects, Maps and Sets, nested.
 */
export const recordValueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, undefined, true, false, -0, Number.NaN, Number.POSITIVE_INFINITY),
    fc.double(),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.oneof(dateArb, fc.constant(new Date(Number.NaN))),
    typedArrayArb,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(propertyNameArb, tie('value')), { maxLength: 4 }).map((entries) => {
      const object: Record<string, unknown> = {};
      for (const [k, v] of entries)
        Object.defineProperty(object, k, { value: v, enumerable: true, writable: true, configurable: true });
      return object;
    }),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.array(tie('value'), { maxLength: 3 }).map((values) => new Set(values)),
  ),
})).value;
