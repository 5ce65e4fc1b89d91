/**
 * Record values on real executors: Date and bigint keys in reduceByKey and sortByKey through
 * the real scheduler (range bounds sampled on executors, shipped in the stage descriptor),
 * compared with a plain-JS reference; params, a broadcast Map and results (inline and through
 * blobs) carry Dates, bigints, NaN, -0, Buffers and Sets exactly.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareKeys, type Key } from '../../engine/records/keys.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import type { TypedKeysParams } from './jobs/typed-keys.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
beforeAll(async () => {
  e2e = await startE2E({ label: 'values' });
});
afterAll(async () => {
  await e2e?.close();
});

/** Deterministic pairs: Dates on a few days, bigints beyond 2^64, and [Date, bigint] keys. */
function typedPairs(n: number): TypedKeysParams['pairs'] {
  return Array.from({ length: n }, (_, i) => {
    const day = new Date(Date.UTC(2024, 1, 1 + (i % 11)));
    const big = 2n ** 64n + BigInt((i * 7) % 13) - 6n;
    const key = i % 3 === 0 ? day : i % 3 === 1 ? big : ([day, big] as [Date, bigint]);
    return [key, (i % 5) - 2];
  });
}

describe('record values through the real scheduler', () => {
  it('Date and bigint keys reduce and sort on executors as a plain-JS reference says', async () => {
    const pairs = typedPairs(240);
    const result = (await e2e.driver.run(path.join(JOBS, 'typed-keys.ts'), {
      pairs,
      partitions: 4,
      rich: 1500,
    } satisfies TypedKeysParams)) as {
      sums: [Key, number][];
      sorted: [Key, number][];
      descending: Key[];
      rich: Record<string, unknown>[];
    };
    const reference: [Key, number][] = [];
    for (const [k, v] of pairs) {
      const entry = reference.find(([r]) => compareKeys(r, k) === 0);
      if (entry) entry[1] += v;
      else reference.push([k, v]);
    }
    const byKey = (a: [Key, unknown], b: [Key, unknown]) => compareKeys(a[0], b[0]);
    expect([...result.sums].sort(byKey)).toStrictEqual(reference.sort(byKey));
    const sortedKeys = [...pairs].map(([k]) => k).sort(compareKeys);
    expect(result.sorted.map(([k]) => k)).toStrictEqual(sortedKeys);
    expect(result.sorted.every(([k]) => k instanceof Date || typeof k === 'bigint' || Array.isArray(k))).toBe(
      true,
    );
    // Equal keys may come in any order: the descending keys are the same keys, non-increasing.
    expect([...result.descending].sort(compareKeys).map((k, i) => compareKeys(k, sortedKeys[i]))).toEqual(
      sortedKeys.map(() => 0),
    );
    for (let i = 1; i < result.descending.length; i++)
      expect(compareKeys(result.descending[i - 1], result.descending[i])).toBeGreaterThanOrEqual(0);
    const rich = [...result.rich].sort((a, b) => (a.i as number) - (b.i as number));
    expect(rich).toStrictEqual(
      Array.from({ length: 1500 }, (_, i) => ({
        i,
        at: new Date(Date.UTC(2025, 0, 1) + i),
        big: BigInt(i) * 3n,
        nan: Number.NaN,
        negZero: -0,
        bytes: Buffer.from([i & 255]),
        tags: new Set([i]),
      })),
    );
    expect(rich.every((r) => Object.is(r.negZero, -0) && Buffer.isBuffer(r.bytes))).toBe(true);
  });
});
