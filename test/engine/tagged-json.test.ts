import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fromTaggedJson,
  type JsonValue,
  stringifyTagged,
  toTaggedJson,
} from '../../engine/records/tagged-json.js';
import { recordValueArb } from './arbitraries.js';

/** A value as it arrives: null-prototype objects become ordinary ones. */
function arrived(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(arrived);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [arrived(k), arrived(v)]));
  if (value instanceof Set) return new Set([...value].map(arrived));
  if (value instanceof Date || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value))
    Object.defineProperty(out, k, {
      value: arrived((value as Record<string, unknown>)[k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

describe('tagged JSON', () => {
  it('every record value survives JSON text exactly', () => {
    fc.assert(
      fc.property(recordValueArb, (value) => {
        const back = fromTaggedJson(JSON.parse(stringifyTagged(value)) as JsonValue);
        expect(back).toStrictEqual(arrived(value));
      }),
    );
  });

  it('JSON values are written as themselves', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const plain = JSON.parse(JSON.stringify(value)) as JsonValue;
        const hasDollarSingleton = JSON.stringify(plain).includes('"$');
        if (!hasDollarSingleton) expect(toTaggedJson(plain)).toStrictEqual(plain);
        expect(fromTaggedJson(toTaggedJson(plain) as JsonValue)).toStrictEqual(plain);
      }),
    );
  });

  it('writes the documented tags', () => {
    expect(
      toTaggedJson([
        new Date(Date.UTC(2024, 4, 1, 12)),
        new Date(Number.NaN),
        12345678901234567890n,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        -0,
        undefined,
        Buffer.from('hi'),
        new Float64Array([1]),
        new Map([[1, 'a']]),
        new Set([true]),
        { $date: 'mine' },
        { $date: 'two', keys: 1 },
      ]),
    ).toEqual([
      { $date: '2024-05-01T12:00:00.000Z' },
      { $date: null },
      { $bigint: '12345678901234567890' },
      { $number: 'NaN' },
      { $number: 'Infinity' },
      { $number: '-0' },
      { $undefined: true },
      { $Buffer: 'aGk=' },
      { $Float64Array: 'AAAAAAAA8D8=' },
      { $map: [[1, 'a']] },
      { $set: [true] },
      { $object: { $date: 'mine' } },
      { $date: 'two', keys: 1 },
    ]);
  });

  it('reads an unknown $-name as the plain object it is, and an own __proto__ as a property', () => {
    expect(fromTaggedJson({ $unknown: 1 })).toEqual({ $unknown: 1 });
    const back = fromTaggedJson(JSON.parse('{"__proto__": {"polluted": true}}') as JsonValue) as object;
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('refuses what is not a record value', () => {
    expect(() => toTaggedJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => toTaggedJson(new (class Point {})())).toThrow(/an instance of Point/);
  });
});
