import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalKey, compareKeys, hashKey, InvalidKeyError, type Key } from '../../engine/records/keys.js';
import { murmur3 } from '../../engine/records/murmur3.js';
import { keyArb } from './arbitraries.js';

describe('keys', () => {
  it('canonical strings are equal exactly when compareKeys says the keys are equal', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        expect(canonicalKey(a) === canonicalKey(b)).toBe(compareKeys(a, b) === 0);
      }),
    );
  });

  it('-0 and 0 are the same key with the same hash', () => {
    expect(canonicalKey(-0)).toBe(canonicalKey(0));
    expect(hashKey([-0, 'a'])).toBe(hashKey([0, 'a']));
    expect(compareKeys(-0, 0)).toBe(0);
  });

  it('the string "1" and the number 1 are different keys', () => {
    expect(canonicalKey('1')).not.toBe(canonicalKey(1));
    expect(compareKeys('1', 1)).toBeGreaterThan(0);
  });

  it('rejects undefined, objects, Maps, Sets, invalid Dates, other typed arrays and functions with an error naming the key', () => {
    const bad = [
      undefined,
      { a: 1 },
      new Map(),
      new Set(),
      new Date(Number.NaN),
      new Float64Array(1),
      () => 1,
      Symbol('s'),
    ];
    for (const key of bad) {
      expect(() => canonicalKey(key)).toThrow(InvalidKeyError);
      expect(() => compareKeys(key, 1)).toThrow(InvalidKeyError);
    }
    expect(() => canonicalKey(['x', new Map()])).toThrow(/invalid key Map \{\} \(in key/);
    expect(() => canonicalKey([new Date(Number.NaN)])).toThrow(/invalid key an invalid Date/);
    expect(() => hashKey(undefined)).toThrow(/INVALID|invalid key undefined/);
  });

  it('NaN, Infinity, bigints, Dates and bytes are keys; NaNs are one key, 1, 1n and "1" three', () => {
    expect(canonicalKey(Number.NaN)).toBe(canonicalKey(0 / 0));
    expect(compareKeys(Number.NaN, Number.NaN)).toBe(0);
    expect(new Set([1, 1n, '1'].map(canonicalKey)).size).toBe(3);
    expect(canonicalKey(new Date(5))).toBe(canonicalKey(new Date(5)));
    expect(hashKey(new Date(5))).toBe(hashKey(new Date(5)));
    expect(canonicalKey(Buffer.from([1, 2]))).toBe(canonicalKey(new Uint8Array([1, 2])));
    expect(canonicalKey(2n ** 70n)).toBe('1180591620717411303424n');
    expect([canonicalKey(Number.POSITIVE_INFINITY), canonicalKey(Number.NEGATIVE_INFINITY)]).toEqual([
      'Infinity',
      '-Infinity',
    ]);
  });

  it('the canonical strings of the new key types can never be those of JSON keys', () => {
    fc.assert(
      fc.property(keyArb, (k) => {
        const text = canonicalKey(k);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          return; // not JSON at all: a NaN, a bigint, a Date, bytes, or an array holding one
        }
        // Whatever is JSON text is the canonical form of exactly that JSON value.
        expect(canonicalKey(json)).toBe(text);
      }),
    );
  });

  it('hashKey is a uint32 and equal keys hash equally', () => {
    fc.assert(
      fc.property(keyArb, (k) => {
        const h = hashKey(k);
        expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
        expect(hashKey(structuredClone(k))).toBe(h);
      }),
    );
  });

  it('murmur3 matches the reference test vectors', () => {
    expect(murmur3(Buffer.from(''), 0)).toBe(0);
    expect(murmur3(Buffer.from(''), 1)).toBe(0x514e28b7);
    expect(murmur3(Buffer.from('hello'), 0)).toBe(0x248bfa47);
    expect(murmur3(Buffer.from('The quick brown fox jumps over the lazy dog'), 0)).toBe(0x2e4ff723);
  });

  it('hashKey values are pinned so they never change across versions', () => {
    expect(hashKey('')).toBe(hashKey(''));
    expect([hashKey('a'), hashKey(1), hashKey(null), hashKey(['a', 1])]).toMatchInlineSnapshot(`
      [
        1961636474,
        2484513939,
        1727035794,
        1148274530,
      ]
    `);
  });

  it('compareKeys is a total order: antisymmetric and transitive', () => {
    fc.assert(
      fc.property(keyArb, keyArb, keyArb, (a, b, c) => {
        expect(Math.sign(compareKeys(a, b))).toBe(-Math.sign(compareKeys(b, a)) || 0);
        if (compareKeys(a, b) <= 0 && compareKeys(b, c) <= 0)
          expect(compareKeys(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('orders mixed types null < boolean < number < bigint < Date < string < binary < array', () => {
    const keys: Key[] = [['a'], 'b', 2, true, null, false, -1, 'a', [], [1, 0], [1]];
    keys.sort(compareKeys);
    expect(keys).toEqual([null, false, true, -1, 2, 'a', 'b', [], [1], [1, 0], ['a']]);
    const mixed: Key[] = [
      Buffer.from([1]),
      new Date(1),
      'z',
      Number.NaN,
      5n,
      Number.POSITIVE_INFINITY,
      new Uint8Array([0, 9]),
      -3n,
      new Date(-1),
      Number.NEGATIVE_INFINITY,
      [Number.NaN],
      new Uint8Array([]),
    ];
    mixed.sort(compareKeys);
    expect(mixed).toEqual([
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      -3n,
      5n,
      new Date(-1),
      new Date(1),
      'z',
      new Uint8Array([]),
      new Uint8Array([0, 9]),
      Buffer.from([1]),
      [Number.NaN],
    ]);
  });

  it('orders bigints and Dates numerically and bytes as unsigned bytes, a prefix first', () => {
    fc.assert(
      fc.property(fc.bigInt(), fc.bigInt(), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5 }), fc.uint8Array({ maxLength: 5 }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(Buffer.compare(a, b)));
      }),
    );
    expect(compareKeys(new Date(-5), new Date(3))).toBeLessThan(0);
  });

  it('orders strings by UTF-16 code units like JavaScript <', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });
});
