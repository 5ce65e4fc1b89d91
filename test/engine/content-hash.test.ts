import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalText, hashValues } from '../../engine/plan/content-hash.js';

/** JSON-like values with objects whose key order is shuffled, for "equal values hash equal". */
const valueArb = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 3 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** The same value rebuilt with every object's keys inserted in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).reverse())
      out[k] = reversedKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

describe('content hash of parallelize data', () => {
  it('equal arrays hash equal, whatever order object keys were inserted in', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 20 }), (values) => {
        expect(hashValues(values.map(reversedKeys))).toBe(hashValues(structuredClone(values)));
      }),
    );
  });

  it('changing one element of an array changes its hash, at the same length', () => {
    fc.assert(
      fc.property(
        fc.array(valueArb, { minLength: 1, maxLength: 20 }),
        fc.nat(),
        valueArb,
        (values, at, replacement) => {
          const i = at % values.length;
          fc.pre(canonicalText(values[i]) !== canonicalText(replacement));
          const changed = values.slice();
          changed[i] = replacement;
          expect(hashValues(changed)).not.toBe(hashValues(values));
        },
      ),
    );
  });

  it('tells apart values that JSON would write alike, and never throws', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const texts = [
      0,
      -0,
      Number.NaN,
      null,
      undefined,
      Number.POSITIVE_INFINITY,
      '0',
      1n,
      new Date(0),
      new Map([['a', 1]]),
      new Set([1]),
      { a: 1 },
      { a: 1, b: undefined },
      [undefined],
      [null],
      new Uint8Array([1]),
      cycle,
    ].map(canonicalText);
    expect(new Set(texts).size).toBe(texts.length);
    expect(hashValues([1, 2, 3])).not.toBe(hashValues([1, 2, 3, undefined]));
    expect(hashValues(['a\nb'])).not.toBe(hashValues(['a', 'b']));
  });
});
