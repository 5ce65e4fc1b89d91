/**
 * The RDD transformations of issue 13 (groupBy, intersection, subtract, cartesian, glom,
 * mapPartitionsWithIndex, sampleByKey, randomSplit) through the in-memory runner, each against
 * a plain-JS reference over the same data and partition counts, empty partitions included:
 * the records, the partition count of the result and, where Spark guarantees one, the order
 * within each partition.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { canonicalKey, type Key } from '../../engine/records/keys.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { keyArb } from './arbitraries.js';
import { bag, groupRef, intsArb, jobRuns, pairsArb, partitionsArb, runAction } from './run-helpers.js';

/** Spark's parallelize slices: slice i is [floor(i*len/n), floor((i+1)*len/n)). */
function slices<T>(data: readonly T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) =>
    data.slice(Math.floor((i * data.length) / n), Math.floor(((i + 1) * data.length) / n)),
  );
}

/** Spark's CartesianRDD, partition by partition: i * n2 + j holds slice i × slice j, this side's order outermost. */
function cartesianRef<T, U>(a: readonly T[], n1: number, b: readonly U[], n2: number): [T, U][][] {
  const out: [T, U][][] = [];
  for (const si of slices(a, n1)) {
    for (const sj of slices(b, n2)) out.push(si.flatMap((x) => sj.map((y) => [x, y] as [T, U])));
  }
  return out;
}

const keyIds = (records: readonly unknown[]) => new Set(records.map((r) => canonicalKey(r)));

/** Two lists drawn from one small pool of keys (nested ones included), so they overlap and repeat. */
const overlappingKeysArb = fc
  .array(keyArb, { minLength: 1, maxLength: 6 })
  .chain((pool) =>
    fc.tuple(
      fc.array(fc.constantFrom(...pool), { maxLength: 20 }),
      fc.array(fc.constantFrom(...pool), { maxLength: 20 }),
    ),
  );

describe('groupBy', () => {
  it('groups the records by the key f computes, into numPartitions partitions', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, partitionsArb, async (data, n, m) => {
        const parts = await runAction((ctx) =>
          ctx
            .parallelize(data, n)
            .groupBy((x) => Math.abs(x) % 3, m)
            .mapValues((xs) => [...xs].sort((a, b) => a - b))
            .glom()
            .collect(),
        );
        expect(parts).toHaveLength(m);
        const ref = [...groupRef(data.map((x) => [Math.abs(x) % 3, x] as const)).values()];
        expect(bag(parts.flat())).toEqual(bag(ref.map(([k, xs]) => [k, xs.sort((a, b) => a - b)])));
      }),
      jobRuns,
    );
  });
});

describe('intersection', () => {
  it('keeps each record present on both sides once, in numPartitions partitions', async () => {
    await fc.assert(
      fc.asyncProperty(
        intsArb,
        intsArb,
        partitionsArb,
        partitionsArb,
        partitionsArb,
        async (a, b, n1, n2, m) => {
          const parts = await runAction((ctx) =>
            ctx.parallelize(a, n1).intersection(ctx.parallelize(b, n2), m).glom().collect(),
          );
          expect(parts).toHaveLength(m);
          const there = keyIds(b);
          const ref = [
            ...new Map(a.filter((x) => there.has(canonicalKey(x))).map((x) => [canonicalKey(x), x])),
          ];
          expect(bag(parts.flat().map((x) => canonicalKey(x)))).toEqual(bag(ref.map(([id]) => id)));
        },
      ),
      jobRuns,
    );
  });

  it('compares records as keys: nested arrays, strings, null and -0 = 0', async () => {
    await fc.assert(
      fc.asyncProperty(overlappingKeysArb, partitionsArb, async ([a, b], n) => {
        const got = await runAction((ctx) =>
          ctx.parallelize(a, n).intersection(ctx.parallelize(b, n)).collect(),
        );
        const there = keyIds(b);
        expect(bag(got.map((k) => canonicalKey(k)))).toEqual(
          bag([...keyIds(a)].filter((id) => there.has(id))),
        );
      }),
      jobRuns,
    );
  });
});

describe('subtract', () => {
  it('keeps every record of this side absent from the other, duplicates included, in numPartitions partitions', async () => {
    await fc.assert(
      fc.asyncProperty(
        intsArb,
        intsArb,
        partitionsArb,
        partitionsArb,
        partitionsArb,
        async (a, b, n1, n2, m) => {
          const parts = await runAction((ctx) =>
            ctx.parallelize(a, n1).subtract(ctx.parallelize(b, n2), m).glom().collect(),
          );
          expect(parts).toHaveLength(m);
          const there = keyIds(b);
          expect(bag(parts.flat())).toEqual(bag(a.filter((x) => !there.has(canonicalKey(x)))));
        },
      ),
      jobRuns,
    );
  });

  it('compares records as keys, nested ones included', async () => {
    await fc.assert(
      fc.asyncProperty(overlappingKeysArb, partitionsArb, async ([a, b], n) => {
        const got = await runAction((ctx) => ctx.parallelize(a, n).subtract(ctx.parallelize(b, n)).collect());
        const there = keyIds(b);
        expect(bag(got.map((k) => canonicalKey(k)))).toEqual(
          bag(a.map((k) => canonicalKey(k)).filter((id) => !there.has(id))),
        );
      }),
      jobRuns,
    );
  });

  it('keeps the duplicates Spark keeps: [1, 1, 2] minus [2, 2, 3] is [1, 1]', async () => {
    const got = await runAction((ctx) =>
      ctx
        .parallelize([1, 1, 2], 2)
        .subtract(ctx.parallelize([2, 2, 3], 2), 3)
        .collect(),
    );
    expect(got).toEqual([1, 1]);
  });
});

describe('cartesian', () => {
  it('has n1 × n2 partitions, partition i*n2+j = partition i × partition j, in Spark order', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, pairsArb, partitionsArb, partitionsArb, async (a, b, n1, n2) => {
        const parts = await runAction((ctx) =>
          ctx.parallelize(a, n1).cartesian(ctx.parallelize(b, n2)).glom().collect(),
        );
        expect(parts).toEqual(cartesianRef(a, n1, b, n2));
      }),
      jobRuns,
    );
  });

  it('pairs a dataset with itself, and reads a shuffled side by its reduce partitions', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, partitionsArb, async (pairs, n, m) => {
        const job = defineJob((ctx) => {
          const sums = ctx.parallelize(pairs, n).reduceByKey((x, y) => x + y, m);
          return { reduced: sums.glom().collect(), pairs: sums.cartesian(sums).glom().collect() };
        });
        const { results, jobs } = await runJobInMemory(job, undefined);
        const sums = [...groupRef(pairs).values()].map(([k, vs]) => [k, vs.reduce((x, y) => x + y, 0)]);
        expect(bag(results.reduced.flat())).toEqual(bag(sums));
        // Partition i*m+j is (reduce partition i) × (reduce partition j), read from the same shuffle.
        const { reduced } = results;
        expect(results.pairs).toEqual(
          reduced.flatMap((ri) => reduced.map((rj) => ri.flatMap((x) => rj.map((y) => [x, y])))),
        );
        const stages = jobs[1]!.plan.stages;
        expect(stages.map((s) => [s.kind, s.numPartitions])).toEqual([
          ['shuffle-map', n],
          ['result', m * m],
        ]);
        expect(jobs[1]!.stagesSkipped).toEqual([0]);
      }),
      jobRuns,
    );
  });

  it('spills the other side over the memory budget and still gives every pair in order', async () => {
    const a = Array.from({ length: 60 }, (_, i) => i);
    const b = Array.from({ length: 3000 }, (_, i) => `record ${i} ${'x'.repeat(40)}`);
    const job = defineJob((ctx) =>
      ctx
        .parallelize(a, 2)
        .cartesian(ctx.parallelize(b, 3))
        .mapPartitions((pairs) => [pairs.map(([x, y]) => `${x}|${y}`).join('\n')])
        .collect(),
    );
    const { results, spillCount } = await runJobInMemory(job, undefined, { memoryBudgetBytes: 64 * 1024 });
    expect(spillCount).toBeGreaterThan(0);
    expect(results).toEqual(cartesianRef(a, 2, b, 3).map((p) => p.map(([x, y]) => `${x}|${y}`).join('\n')));
  });

  it('a cached side is cached whole by the first job, and a later job reads it instead of computing it', async () => {
    const data = Array.from({ length: 20 }, (_, i) => i);
    const job = defineJob((ctx) => {
      const computed = ctx.accumulator('computed', 0);
      const ds = ctx
        .parallelize(data, 4)
        .map((x) => {
          computed.add(1);
          return x;
        })
        .cache();
      return { pairs: ds.cartesian(ds).count(), again: ds.collect() };
    });
    const { results, accumulators, jobs } = await runJobInMemory(job, undefined);
    expect(results).toEqual({ pairs: 400, again: data });
    // Job 1: each of the 16 tasks computes one partition (5 records) of each side.
    expect(accumulators.computed).toBe(16 * 2 * 5);
    expect(jobs[1]!.plan.stages[0]!.cacheReads).toHaveLength(1);
  });

  it('an empty side gives no pairs, in n1 × n2 empty partitions', async () => {
    const got = await runAction((ctx) =>
      ctx.parallelize([1, 2, 3], 3).cartesian(ctx.parallelize<string>([], 2)).glom().collect(),
    );
    expect(got).toEqual([[], [], [], [], [], []]);
  });
});

describe('glom and mapPartitionsWithIndex', () => {
  it('glom gives each partition as one array, in order, [] for empty ones', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, n) => {
        expect(await runAction((ctx) => ctx.parallelize(data, n).glom().collect())).toEqual(slices(data, n));
      }),
      jobRuns,
    );
  });

  it('mapPartitionsWithIndex calls f(index, records) once per partition, empty ones included', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, n) => {
        const got = await runAction((ctx) =>
          ctx
            .parallelize(data, n)
            .mapPartitionsWithIndex((index, records) => records.map((x) => [index, x] as [number, number]))
            .collect(),
        );
        expect(got).toEqual(slices(data, n).flatMap((s, i) => s.map((x) => [i, x])));
        const counts = await runAction((ctx) =>
          ctx
            .parallelize(data, n)
            .mapPartitionsWithIndex((index, records) => [[index, records.length]])
            .collect(),
        );
        expect(counts).toEqual(slices(data, n).map((s, i) => [i, s.length]));
      }),
      jobRuns,
    );
  });
});

describe('sampleByKey', () => {
  const keyed = (n: number) =>
    Array.from({ length: n }, (_, i) => [['a', 'b', 'c'][i % 3]!, i] as [string, number]);

  it('is deterministic for a seed, keeps partition order and partition count', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairsArb,
        partitionsArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        async (pairs, n, f, withReplacement) => {
          const fractions = new Map<string | number, number>(pairs.map(([k]) => [k, f]));
          const sample = () =>
            runAction((ctx) =>
              ctx.parallelize(pairs, n).sampleByKey(withReplacement, fractions, 5).glom().collect(),
            );
          const once = await sample();
          expect(await sample()).toEqual(once);
          expect(once).toHaveLength(n);
          // Each partition's sample is a subsequence of its slice (repeats adjacent with replacement).
          slices(pairs, n).forEach((slice, p) => {
            let i = 0;
            for (const r of once[p]!) {
              while (i < slice.length && slice[i] !== r && JSON.stringify(slice[i]) !== JSON.stringify(r))
                i++;
              expect(i).toBeLessThan(slice.length);
            }
          });
        },
      ),
      jobRuns,
    );
  });

  it('samples each key at its own fraction: all of a, none of b, about a third of c', async () => {
    const data = keyed(3000);
    const got = await runAction((ctx) =>
      ctx
        .parallelize(data, 4)
        .sampleByKey(false, { a: 1, b: 0, c: 1 / 3 }, 11)
        .collect(),
    );
    expect(got.filter(([k]) => k === 'a')).toEqual(data.filter(([k]) => k === 'a'));
    expect(got.filter(([k]) => k === 'b')).toEqual([]);
    expect(Math.abs(got.filter(([k]) => k === 'c').length - 333)).toBeLessThan(60);
    const twice = await runAction((ctx) =>
      ctx
        .parallelize(data, 4)
        .sampleByKey(
          true,
          new Map([
            ['a', 2],
            ['b', 0],
            ['c', 0.5],
          ]),
          11,
        )
        .countByKey(),
    );
    const counts = Object.fromEntries(twice);
    expect(counts.b).toBeUndefined();
    expect(Math.abs(counts.a! - 2000)).toBeLessThan(200);
    expect(Math.abs(counts.c! - 500)).toBeLessThan(100);
  });

  it('matches keys as keys: a Map with array and number keys', async () => {
    const data: [Key[], number][] = [
      [[1, 'x'], 1],
      [[2], 2],
      [[1, 'x'], 3],
    ];
    const got = await runAction((ctx) =>
      ctx
        .parallelize(data, 2)
        .sampleByKey(
          false,
          new Map([
            [[1, 'x'], 1],
            [[2], 0],
          ]),
        )
        .collect(),
    );
    expect(got).toEqual([data[0], data[2]]);
  });

  it('fails with SAMPLE_FRACTION_MISSING for a key without a fraction, and refuses bad fractions', async () => {
    await expect(
      runAction((ctx) => ctx.parallelize(keyed(6), 2).sampleByKey(false, { a: 1, b: 1 }).collect()),
    ).rejects.toMatchObject({ code: 'SAMPLE_FRACTION_MISSING' });
    await expect(
      runAction((ctx) => ctx.parallelize(keyed(6), 2).sampleByKey(false, { a: 1.5, b: 1, c: 1 }).collect()),
    ).rejects.toThrow(/fraction of key "a" must be a number in \[0, 1\]/);
    await expect(
      runAction((ctx) => ctx.parallelize(keyed(6), 2).sampleByKey(true, { a: -1, b: 1, c: 1 }).collect()),
    ).rejects.toThrow(/>= 0 with/);
  });
});

describe('randomSplit', () => {
  /** Records with unique ids, so membership is exact. */
  const idsArb = fc.integer({ min: 0, max: 40 }).map((len) => Array.from({ length: len }, (_, i) => i));
  const weightsArb = fc
    .array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 4 })
    .filter((ws) => ws.some((w) => w > 0));

  it('splits each partition into disjoint subsequences that cover it exactly once, no shuffle', async () => {
    await fc.assert(
      fc.asyncProperty(idsArb, partitionsArb, weightsArb, fc.integer(), async (data, n, weights, seed) => {
        const job = defineJob((ctx) => {
          const splits = ctx.parallelize(data, n).randomSplit(weights, seed);
          return Object.fromEntries(splits.map((s, i) => [`split${i}`, s.glom().collect()]));
        });
        const { results, jobs } = await runJobInMemory(job, undefined);
        const splits = Object.values(results as Record<string, number[][]>);
        expect(splits).toHaveLength(weights.length);
        for (const job of jobs) expect(job.plan.stages).toHaveLength(1);
        slices(data, n).forEach((slice, p) => {
          for (const s of splits) {
            expect(s).toHaveLength(n);
            expect(s[p]).toEqual([...s[p]!].sort((x, y) => x - y));
          }
          expect(splits.flatMap((s) => s[p]!).sort((x, y) => x - y)).toEqual(slice);
        });
      }),
      jobRuns,
    );
  });

  it('sizes the splits in proportion to the normalised weights; a zero weight gives an empty split', async () => {
    const data = Array.from({ length: 4000 }, (_, i) => i);
    const job = defineJob((ctx) => {
      const [a, none, b] = ctx.parallelize(data, 4).randomSplit([1, 0, 3], 42);
      return { a: a!.count(), none: none!.count(), b: b!.count() };
    });
    const { results } = await runJobInMemory(job, undefined);
    expect(results.none).toBe(0);
    expect(results.a + results.b).toBe(4000);
    expect(Math.abs(results.a - 1000)).toBeLessThan(100);
  });

  it('refuses no weights, negative or non-finite weights, and weights that are all 0', () => {
    const build = (weights: number[]) => () =>
      runJobInMemory(
        defineJob((ctx) => ctx.parallelize([1], 1).randomSplit(weights)[0]!.count()),
        undefined,
      );
    return Promise.all([
      expect(build([])()).rejects.toThrow(/at least one weight/),
      expect(build([1, -1])()).rejects.toThrow(/finite and >= 0/),
      expect(build([1, Number.POSITIVE_INFINITY])()).rejects.toThrow(/finite and >= 0/),
      expect(build([0, 0])()).rejects.toThrow(/not all be 0/),
    ]);
  });
});
