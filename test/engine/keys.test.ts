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

  it('rejects NaN, Infinity, undefined, objects and functions with an error naming the key', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, undefined, { a: 1 }, () => 1, new Date(0)]) {
      expect(() => canonicalKey(bad)).toThrow(InvalidKeyError);
    }
    expect(() => canonicalKey(['x', Number.NaN])).toThrow(/invalid key NaN \(in key/);
    expect(() => compareKeys(1, { a: 1 })).toThrow(InvalidKeyError);
    expect(() => hashKey(undefined)).toThrow(/INVALID|invalid key undefined/);
  });

  it('hashKey is a uint32 and equal keys hash equally', () => {
    fc.assert(
      fc.property(keyArb, (k) => {
        const h = hashKey(k);
        expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
        expect(hashKey(JSON.parse(JSON.stringify(k)) as Key)).toBe(h);
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

  it('orders mixed types null < boolean < number < string < array', () => {
    const keys: Key[] = [['a'], 'b', 2, true, null, false, -1, 'a', [], [1, 0], [1]];
    keys.sort(compareKeys);
    expect(keys).toEqual([null, false, true, -1, 2, 'a', 'b', [], [1], [1, 0], ['a']]);
  });

  it('orders strings by UTF-16 code units like JavaScript <', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });
});
