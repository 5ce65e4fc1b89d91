import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bag, intsArb, jobRuns, pairsArb, partitionsArb, runAction } from './run-helpers.js';

/** Spark's parallelize slices: slice i is [floor(i*len/n), floor((i+1)*len/n)). */
function slices<T>(data: T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) =>
    data.slice(Math.floor((i * data.length) / n), Math.floor(((i + 1) * data.length) / n)),
  );
}

describe('narrow operations against plain JS', () => {
  it('map, filter and flatMap keep records in partition order, empty partitions included', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, n) => {
        const got = await runAction((ctx) =>
          ctx
            .parallelize(data, n)
            .map((x) => x * 3)
            .filter((x) => x % 2 === 0)
            .flatMap((x) => [x, x + 1])
            .collect(),
        );
        expect(got).toEqual(
          data
            .map((x) => x * 3)
            .filter((x) => x % 2 === 0)
            .flatMap((x) => [x, x + 1]),
        );
      }),
      jobRuns,
    );
  });

  it('parallelize with more slices than elements yields empty partitions and loses nothing', async () => {
    const got = await runAction((ctx) =>
      ctx
        .parallelize([1, 2], 8)
        .mapPartitions((rs, p) => [[p, rs.length]])
        .collect(),
    );
    expect(got).toEqual([0, 0, 0, 1, 0, 0, 0, 1].map((len, p) => [p, len]));
  });

  it('mapPartitions sees each partition as its slice, with the partition index', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, n) => {
        const got = await runAction((ctx) =>
          ctx
            .parallelize(data, n)
            .mapPartitions((rs, p) => [{ p, sum: rs.reduce((a, b) => a + b, 0) }])
            .collect(),
        );
        expect(got).toEqual(slices(data, n).map((s, p) => ({ p, sum: s.reduce((a, b) => a + b, 0) })));
      }),
      jobRuns,
    );
  });

  it('union concatenates the partitions of its inputs', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, intsArb, partitionsArb, partitionsArb, async (a, b, n, m) => {
        const got = await runAction((ctx) => ctx.parallelize(a, n).union(ctx.parallelize(b, m)).collect());
        expect(got).toEqual([...a, ...b]);
      }),
      jobRuns,
    );
  });

  it('coalesce merges neighbouring partitions without reordering records', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, partitionsArb, async (data, n, m) => {
        const got = await runAction((ctx) =>
          ctx
            .parallelize(data, n)
            .coalesce(m)
            .mapPartitions((rs) => [rs])
            .collect(),
        );
        expect(got).toHaveLength(Math.min(n, m));
        expect(got.flat()).toEqual(data);
      }),
      jobRuns,
    );
  });

  it('keyBy, mapValues, flatMapValues, keys and values transform pairs', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, async (pairs, n) => {
        const got = await runAction((ctx) => {
          const ds = ctx.parallelize(pairs, n);
          return ds
            .mapValues((v) => v * 2)
            .flatMapValues((v) => [v, -v])
            .keys()
            .keyBy((k) => typeof k)
            .values()
            .collect();
        });
        expect(got).toEqual(pairs.flatMap(([k]) => [k, k]));
        const vals = await runAction((ctx) => ctx.parallelize(pairs, n).values().collect());
        expect(vals).toEqual(pairs.map(([, v]) => v));
      }),
      jobRuns,
    );
  });

  it('sample is a deterministic subset for a seed, per partition', async () => {
    await fc.assert(
      fc.asyncProperty(
        intsArb,
        partitionsArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (data, n, f) => {
          const once = await runAction((ctx) => ctx.parallelize(data, n).sample(false, f, 7).collect());
          const twice = await runAction((ctx) => ctx.parallelize(data, n).sample(false, f, 7).collect());
          expect(twice).toEqual(once);
          // A subsequence of the input.
          let i = 0;
          for (const x of once) {
            while (i < data.length && data[i] !== x) i++;
            expect(i).toBeLessThan(data.length);
            i++;
          }
        },
      ),
      jobRuns,
    );
  });

  it('sample keeps everything at fraction 1, nothing at 0, and about the fraction in between', async () => {
    const data = Array.from({ length: 2000 }, (_, i) => i);
    expect(await runAction((ctx) => ctx.parallelize(data, 4).sample(false, 1).count())).toBe(2000);
    expect(await runAction((ctx) => ctx.parallelize(data, 4).sample(false, 0).count())).toBe(0);
    const third = await runAction((ctx) =>
      ctx
        .parallelize(data, 4)
        .sample(false, 1 / 3, 1)
        .count(),
    );
    expect(Math.abs(third - 667)).toBeLessThan(100);
    const twice = await runAction((ctx) => ctx.parallelize(data, 4).sample(true, 2, 1).count());
    expect(Math.abs(twice - 4000)).toBeLessThan(300);
  });

  it('distinct keeps one of each record', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, partitionsArb, async (data, n, m) => {
        const got = await runAction((ctx) => ctx.parallelize(data, n).distinct(m).collect());
        expect(bag(got)).toEqual(bag([...new Set(data.map((x) => (Object.is(x, -0) ? 0 : x)))]));
      }),
      jobRuns,
    );
  });

  it('textFile splits raw partition bytes into lines, dropping \\r before \\n, UTF-8 intact', async () => {
    const files = { 'in/*.txt': ['héllo wörld\r\nsecond', '', 'third\nfourth\n'] };
    const got = await runAction((ctx) => ctx.textFile('in/*.txt').collect(), { files });
    expect(got).toEqual(['héllo wörld', 'second', 'third', 'fourth']);
  });

  it('jsonLines parses one value per non-blank line', async () => {
    const files = { 'x.jsonl': ['{"a":1}\n\n[2,3]\n', '"s"\n'] };
    expect(await runAction((ctx) => ctx.jsonLines('x.jsonl').collect(), { files })).toEqual([
      { a: 1 },
      [2, 3],
      's',
    ]);
  });
});
