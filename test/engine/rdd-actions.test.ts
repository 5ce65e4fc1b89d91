/**
 * The RDD actions of issue 13 on records and pairs — countByValue, collectAsMap, foreach,
 * foreachPartition, takeOrdered, top, max, min, lookup, takeSample — through the in-memory
 * runner, each against a plain-JS reference over the same data, across partition counts with
 * empty partitions, and Spark's error cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JobContext } from '../../engine/dataset/context.js';
import { defineJob } from '../../engine/dataset/job.js';
import { canonicalKey, compareKeys, type Key } from '../../engine/records/keys.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { keyArb } from './arbitraries.js';
import { intsArb, jobRuns, pairsArb, partitionsArb, runAction } from './run-helpers.js';

/** Plain JS: [value, count] per distinct value (key equality), sorted by value. */
function countsRef(values: readonly Key[]): [Key, number][] {
  const counts = new Map<string, [Key, number]>();
  for (const v of values) {
    const entry = counts.get(canonicalKey(v));
    if (entry) entry[1] += 1;
    else counts.set(canonicalKey(v), [v, 1]);
  }
  return [...counts.values()].sort((a, b) => compareKeys(a[0], b[0]));
}

/** Plain JS: a stable sort by key, in `direction`. */
function sortedRef<T>(records: readonly T[], key: (r: T) => Key, direction: 1 | -1): T[] {
  return [...records].sort((a, b) => direction * compareKeys(key(a), key(b)));
}

describe('countByValue and collectAsMap', () => {
  it('countByValue counts each distinct record (key equality) and sorts by record, as countByKey', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(keyArb, { maxLength: 25 }), partitionsArb, async (data, n) => {
        const got = await runAction((ctx) => ctx.parallelize(data, n).countByValue());
        // Equal keys are interchangeable (a Buffer and a Uint8Array of the same bytes are one
        // key, and either may stand for it): compare each value by its key identity.
        const byIdentity = (counts: readonly [Key, number][]) => counts.map(([k, c]) => [canonicalKey(k), c]);
        expect(byIdentity(got)).toEqual(byIdentity(countsRef(data)));
      }),
      jobRuns,
    );
  });

  it('collectAsMap keeps the value of the last pair of each key, in partition order', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, async (pairs, n) => {
        const got = await runAction((ctx) => ctx.parallelize(pairs, n).collectAsMap());
        expect(got).toBeInstanceOf(Map);
        expect([...got]).toEqual([...new Map(pairs)]);
      }),
      jobRuns,
    );
  });

  it('collectAsMap treats equal array keys as one key, keyed by the first one met', async () => {
    const got = await runAction((ctx) =>
      ctx
        .parallelize(
          [
            [['a', 1], 'x'],
            [['b'], 'y'],
            [['a', 1], 'z'],
          ] as [Key, string][],
          3,
        )
        .collectAsMap(),
    );
    expect([...got]).toEqual([
      [['a', 1], 'z'],
      [['b'], 'y'],
    ]);
  });
});

describe('foreach and foreachPartition', () => {
  it('foreach runs the side effect on every record once and returns nothing; accumulators carry data back', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, n) => {
        const job = defineJob((ctx) => {
          const total = ctx.accumulator('total', 0);
          const seen = ctx.accumulator('seen', [] as number[]);
          return ctx.parallelize(data, n).foreach(async (x) => {
            await Promise.resolve();
            total.add(x);
            seen.add([x]);
          });
        });
        const run = await runJobInMemory(job, undefined);
        expect(run.results).toBeUndefined();
        expect(run.accumulators.total).toBe(data.reduce((a, b) => a + b, 0));
        expect([...(run.accumulators.seen as number[])].sort()).toEqual([...data].sort());
      }),
      jobRuns,
    );
  });

  it('foreachPartition gets each partition whole, empty ones included, with its index', async () => {
    const data = [1, 2, 3, 4, 5];
    const job = defineJob((ctx) => {
      const parts = ctx.accumulator('parts', [] as [number, number[]][]);
      return ctx.parallelize(data, 7).foreachPartition((records, partition) => {
        parts.add([[partition, records]]);
      });
    });
    const run = await runJobInMemory(job, undefined);
    const parts = (run.accumulators.parts as [number, number[]][]).sort((a, b) => a[0] - b[0]);
    expect(parts.map(([p]) => p)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(parts.flatMap(([, records]) => records)).toEqual(data);
    expect(parts.some(([, records]) => records.length === 0)).toBe(true);
  });

  it('an error thrown by the side effect fails the job naming the action', async () => {
    const run = runAction((ctx) =>
      ctx.parallelize([1, 2], 2).foreach((x) => {
        if (x === 2) throw new Error('boom');
      }),
    );
    await expect(run).rejects.toMatchObject({
      code: 'USER_CODE',
      message: expect.stringContaining('foreach'),
    });
  });
});

describe('takeOrdered, top, max and min', () => {
  it('takeOrdered and top equal a stable sort of the records, by compareKeys', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(keyArb, { maxLength: 25 }), partitionsArb, fc.nat(8), async (data, n, k) => {
        const job = defineJob((ctx) => {
          const ds = ctx.parallelize(data, n);
          return { smallest: ds.takeOrdered(k), largest: ds.top(k) };
        });
        const { results } = await runJobInMemory(job, undefined);
        expect(results.smallest).toEqual(sortedRef(data, (r) => r, 1).slice(0, k));
        expect(results.largest).toEqual(sortedRef(data, (r) => r, -1).slice(0, k));
      }),
      jobRuns,
    );
  });

  it('with a key function, ties keep dataset order', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, fc.nat(10), async (pairs, n, k) => {
        const job = defineJob((ctx) => {
          const ds = ctx.parallelize(pairs, n);
          return { smallest: ds.takeOrdered(k, ([, v]) => v), largest: ds.top(k, ([, v]) => v) };
        });
        const { results } = await runJobInMemory(job, undefined);
        expect(results.smallest).toEqual(sortedRef(pairs, ([, v]) => v, 1).slice(0, k));
        expect(results.largest).toEqual(sortedRef(pairs, ([, v]) => v, -1).slice(0, k));
      }),
      jobRuns,
    );
  });

  it('max and min are the first largest and smallest record, by the records or a key', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairsArb.filter((p) => p.length > 0),
        partitionsArb,
        async (pairs, n) => {
          const job = defineJob((ctx) => {
            const ds = ctx.parallelize(pairs, n);
            return { max: ds.max(([, v]) => v), min: ds.min(([, v]) => v), maxValue: ds.values().max() };
          });
          const { results } = await runJobInMemory(job, undefined);
          expect(results.max).toEqual(sortedRef(pairs, ([, v]) => v, -1)[0]);
          expect(results.min).toEqual(sortedRef(pairs, ([, v]) => v, 1)[0]);
          expect(results.maxValue).toBe(Math.max(...pairs.map(([, v]) => v)));
        },
      ),
      jobRuns,
    );
  });

  it('max and min of an empty dataset fail with EMPTY_COLLECTION naming the action; takeOrdered gives []', async () => {
    const empty = (ctx: JobContext) => ctx.parallelize([] as number[], 3);
    await expect(runAction((ctx) => empty(ctx).max())).rejects.toMatchObject({
      code: 'EMPTY_COLLECTION',
      message: 'max(): empty collection',
    });
    await expect(runAction((ctx) => empty(ctx).min())).rejects.toMatchObject({
      code: 'EMPTY_COLLECTION',
      message: 'min(): empty collection',
    });
    expect(await runAction((ctx) => empty(ctx).takeOrdered(3))).toEqual([]);
    expect(await runAction((ctx) => empty(ctx).top(3))).toEqual([]);
  });

  it('records that are not keys fail with INVALID_KEY; a negative n is refused in the builder', async () => {
    await expect(runAction((ctx) => ctx.parallelize([{ a: 1 }], 1).top(1))).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
    await expect(runAction((ctx) => ctx.parallelize([1], 1).takeOrdered(-1))).rejects.toMatchObject({
      code: 'CONFIG',
    });
  });
});

describe('lookup', () => {
  it('lookup returns the values of the key in partition order, scanning every partition without a partitioner', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairsArb,
        partitionsArb,
        fc.constantFrom<Key>('a', 'b', 0, 3, 'z'),
        async (pairs, n, key) => {
          const run = await runJobInMemory(
            defineJob((ctx) => ctx.parallelize(pairs, n).lookup(key)),
            undefined,
          );
          expect(run.results).toEqual(pairs.filter(([k]) => k === key).map(([, v]) => v));
          expect(run.jobs[0]!.plan.stages.at(-1)!.partitions).toBeUndefined();
        },
      ),
      jobRuns,
    );
  });

  it("on a hash-partitioned dataset (reduceByKey, then mapValues) lookup computes only the key's partition", async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, fc.integer({ min: 1, max: 6 }), async (pairs, n, r) => {
        const run = await runJobInMemory(
          defineJob((ctx) =>
            ctx
              .parallelize(pairs, n)
              .reduceByKey((a, b) => a + b, r)
              .mapValues((v) => v * 10)
              .lookup('a'),
          ),
          undefined,
        );
        const sum = pairs.filter(([k]) => k === 'a').reduce((s, [, v]) => s + v, 0);
        expect(run.results).toEqual(pairs.some(([k]) => k === 'a') ? [sum * 10] : []);
        const result = run.jobs[0]!.plan.stages.at(-1)!;
        expect(result.numPartitions).toBe(r);
        expect(result.partitions).toHaveLength(1);
      }),
      jobRuns,
    );
  });

  it('after a join lookup still scans one partition; after map (keys may change) all of them', async () => {
    const job = defineJob((ctx) => {
      const left = ctx.parallelize(
        [
          ['a', 1],
          ['b', 2],
        ] as [string, number][],
        2,
      );
      const right = ctx.parallelize([['a', 'x']] as [string, string][], 2);
      return {
        joined: left.join(right, 4).lookup('a'),
        mapped: left
          .reduceByKey((a, b) => a + b, 4)
          .map(([k, v]) => [k, v] as [string, number])
          .lookup('b'),
      };
    });
    const run = await runJobInMemory(job, undefined);
    expect(run.results).toEqual({ joined: [[1, 'x']], mapped: [2] });
    const resultStages = run.jobs.map((j) => j.plan.stages.at(-1)!);
    expect(resultStages.map((s) => s.partitions?.length ?? s.numPartitions)).toEqual([1, 4]);
  });
});

describe('takeSample', () => {
  const distinct = fc.uniqueArray(fc.integer({ min: -1000, max: 1000 }), { maxLength: 30 });

  it('without replacement: exactly min(num, count) distinct records, all of them when num is larger', async () => {
    await fc.assert(
      fc.asyncProperty(distinct, partitionsArb, fc.nat(40), fc.integer(), async (data, n, num, seed) => {
        const got = await runAction((ctx) => ctx.parallelize(data, n).takeSample(false, num, seed));
        expect(got).toHaveLength(Math.min(num, data.length));
        expect(new Set(got).size).toBe(got.length);
        for (const x of got) expect(data).toContain(x);
      }),
      jobRuns,
    );
  });

  it('with replacement: exactly num records (none from an empty dataset), each one of the dataset', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, fc.nat(40), async (data, n, num) => {
        const got = await runAction((ctx) => ctx.parallelize(data, n).takeSample(true, num, 7));
        expect(got).toHaveLength(data.length === 0 ? 0 : num);
        for (const x of got) expect(data).toContain(x);
      }),
      jobRuns,
    );
  });

  it('the same seed gives the same sample whatever the partitioning; another seed another', async () => {
    const data = Array.from({ length: 200 }, (_, i) => i);
    const sample = (n: number, seed: number, withReplacement = false) =>
      runAction((ctx) => ctx.parallelize(data, n).takeSample(withReplacement, 10, seed));
    const first = await sample(3, 42);
    expect(await sample(3, 42)).toEqual(first);
    expect(await sample(7, 42)).toEqual(first);
    expect(await sample(3, 43)).not.toEqual(first);
    expect(await sample(2, 5, true)).toEqual(await sample(5, 5, true));
  });

  it('runs a hidden job counting the records of each partition first', async () => {
    const run = await runJobInMemory(
      defineJob((ctx) => ctx.parallelize([1, 2, 3, 4], 2).takeSample(false, 2, 1)),
      undefined,
    );
    expect(run.jobs.map((j) => j.plan.actionOp)).toEqual(['countPartitions', 'takeSample']);
    expect(run.jobs[0]!.action).toEqual({ hiddenJob: 0 });
  });

  it('a negative num or a fractional seed is refused in the builder', async () => {
    await expect(runAction((ctx) => ctx.parallelize([1]).takeSample(false, -1))).rejects.toMatchObject({
      code: 'CONFIG',
    });
    await expect(runAction((ctx) => ctx.parallelize([1]).takeSample(false, 1, 0.5))).rejects.toMatchObject({
      code: 'CONFIG',
    });
  });
});
