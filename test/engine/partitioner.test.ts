import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../engine/records/keys.js';
import {
  computeRangeBounds,
  createPartitioner,
  DirectPartitioner,
  HashPartitioner,
  RangePartitioner,
} from '../../engine/shuffle/partitioner.js';
import { keyArb } from './arbitraries.js';

describe('partitioners', () => {
  it('the hash partitioner puts every key in [0, n) and equal keys together', () => {
    fc.assert(
      fc.property(keyArb, fc.integer({ min: 1, max: 64 }), (k, n) => {
        const p = new HashPartitioner(n).getPartition(k);
        expect(p >= 0 && p < n && Number.isInteger(p)).toBe(true);
        expect(new HashPartitioner(n).getPartition(structuredClone(k))).toBe(p);
      }),
    );
  });

  it('the direct partitioner (the Dataset ⇄ DataFrame bridge) sends key p to partition p, refusing any other key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.nat(), (n, k) => {
        const direct = createPartitioner(new DirectPartitioner(n).desc);
        if (k < n) expect(direct.getPartition(k)).toBe(k);
        else expect(() => direct.getPartition(k)).toThrow(/direct partitioner/);
      }),
    );
    for (const bad of [-1, 1.5, '0', null])
      expect(() => new DirectPartitioner(4).getPartition(bad)).toThrow();
  });

  it('the range partitioner is monotone in the key and stays in [0, n)', () => {
    fc.assert(
      fc.property(
        fc.array(keyArb, { maxLength: 30 }),
        fc.integer({ min: 1, max: 8 }),
        keyArb,
        keyArb,
        (s, n, a, b) => {
          const bounds = computeRangeBounds(s, n);
          for (const ascending of [true, false]) {
            const rp = new RangePartitioner(bounds, ascending);
            const [lo, hi] = compareKeys(a, b) <= 0 ? [a, b] : [b, a];
            const pl = rp.getPartition(lo);
            const ph = rp.getPartition(hi);
            expect(pl >= 0 && ph < rp.numPartitions).toBe(true);
            if (ascending) expect(pl).toBeLessThanOrEqual(ph);
            else expect(pl).toBeGreaterThanOrEqual(ph);
          }
        },
      ),
    );
  });

  it('computeRangeBounds returns at most n-1 strictly increasing bounds', () => {
    fc.assert(
      fc.property(fc.array(keyArb, { maxLength: 50 }), fc.integer({ min: 1, max: 10 }), (s, n) => {
        const bounds = computeRangeBounds(s, n);
        expect(bounds.length).toBeLessThanOrEqual(n - 1);
        for (let i = 1; i < bounds.length; i++) expect(compareKeys(bounds[i - 1], bounds[i])).toBeLessThan(0);
      }),
    );
  });

  it('range bounds split evenly distributed keys into balanced partitions', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => i);
    const rp = new RangePartitioner(computeRangeBounds([{ count: 1000, keys }], 4));
    const sizes = [0, 0, 0, 0];
    for (const k of keys) sizes[rp.getPartition(k)]! += 1;
    for (const size of sizes) expect(size).toBeGreaterThan(200);
  });

  it('descriptions are JSON and rebuild the same partitioner', () => {
    const hash = createPartitioner(JSON.parse(JSON.stringify(new HashPartitioner(5).desc)));
    expect(hash.getPartition('x')).toBe(new HashPartitioner(5).getPartition('x'));
    const range = createPartitioner({ kind: 'range', bounds: [1, 'b'], ascending: true });
    expect([range.getPartition(0), range.getPartition('a'), range.getPartition('c')]).toEqual([0, 1, 2]);
  });
});
