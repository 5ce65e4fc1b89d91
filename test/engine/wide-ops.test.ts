import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalKey, compareKeys, type Key } from '../../engine/records/keys.js';
import { bag, byKey, groupRef, jobRuns, pairsArb, partitionsArb, runAction } from './run-helpers.js';

type Pair = [string | number, number];

function reduceRef(pairs: Pair[], f: (a: number, b: number) => number): Pair[] {
  return [...groupRef(pairs).values()].map(([k, vs]) => [k, vs.reduce(f)] as Pair);
}

function joinRef(a: Pair[], b: Pair[], kind: 'inner' | 'left' | 'right' | 'full') {
  const ga = groupRef(a);
  const gb = groupRef(b);
  const out: unknown[] = [];
  const keys = new Set([...ga.keys(), ...gb.keys()]);
  for (const id of keys) {
    const k = (ga.get(id) ?? gb.get(id))![0];
    const vs: (number | null)[] = ga.get(id)?.[1] ?? [];
    const ws: (number | null)[] = gb.get(id)?.[1] ?? [];
    if (vs.length === 0 && (kind === 'inner' || kind === 'left')) continue;
    if (ws.length === 0 && (kind === 'inner' || kind === 'right')) continue;
    const left = vs.length === 0 ? [null] : vs;
    const right = ws.length === 0 ? [null] : ws;
    for (const v of left) for (const w of right) out.push([k, [v, w]]);
  }
  return out;
}

const twoSides = fc.tuple(pairsArb, pairsArb, partitionsArb, partitionsArb, partitionsArb);

describe('wide operations against plain JS', () => {
  it('reduceByKey merges the values of each key', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, partitionsArb, async (pairs, n, m) => {
        const got = await runAction((ctx) =>
          ctx
            .parallelize(pairs, n)
            .reduceByKey((a, b) => a + b, m)
            .collect(),
        );
        expect(bag(got)).toEqual(bag(reduceRef(pairs, (a, b) => a + b)));
      }),
      jobRuns,
    );
  });

  it('foldByKey starts each key from zero once per map partition, as Spark', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, partitionsArb, async (pairs, n, m) => {
        const got = await runAction((ctx) =>
          ctx
            .parallelize(pairs, n)
            .foldByKey(0, (a, b) => a + b, m)
            .collect(),
        );
        expect(bag(got)).toEqual(bag(reduceRef(pairs, (a, b) => a + b)));
      }),
      jobRuns,
    );
  });

  it('aggregateByKey and combineByKey build per-key combiners', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, partitionsArb, async (pairs, n, m) => {
        const agg = await runAction((ctx) =>
          ctx
            .parallelize(pairs, n)
            .aggregateByKey(
              { sum: 0, count: 0 },
              (acc, v) => ({ sum: acc.sum + v, count: acc.count + 1 }),
              (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
              m,
            )
            .collect(),
        );
        const ref = [...groupRef(pairs).values()].map(([k, vs]) => [
          k,
          { sum: vs.reduce((a, b) => a + b, 0), count: vs.length },
        ]);
        expect(bag(agg)).toEqual(bag(ref));
        const comb = await runAction((ctx) =>
          ctx
            .parallelize(pairs, n)
            .combineByKey(
              (v) => [v],
              (c, v) => [...c, v],
              (a, b) => [...a, ...b],
              m,
            )
            .mapValues((vs) => [...vs].sort((a, b) => a - b))
            .collect(),
        );
        expect(bag(comb)).toEqual(
          bag([...groupRef(pairs).values()].map(([k, vs]) => [k, vs.sort((a, b) => a - b)])),
        );
      }),
      jobRuns,
    );
  });

  it('groupByKey gathers every value of a key', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, partitionsArb, async (pairs, n, m) => {
        const got = await runAction((ctx) =>
          ctx
            .parallelize(pairs, n)
            .groupByKey(m)
            .mapValues((vs) => vs.sort((a, b) => a - b))
            .collect(),
        );
        const ref = [...groupRef(pairs).values()].map(([k, vs]) => [k, vs.sort((a, b) => a - b)]);
        expect(bag(got)).toEqual(bag(ref));
      }),
      jobRuns,
    );
  });

  it('join, leftOuterJoin, rightOuterJoin and fullOuterJoin match nested loops, misses are null', async () => {
    await fc.assert(
      fc.asyncProperty(twoSides, async ([a, b, n, m, r]) => {
        const [inner, left, right, full] = await Promise.all([
          runAction((ctx) => ctx.parallelize(a, n).join(ctx.parallelize(b, m), r).collect()),
          runAction((ctx) => ctx.parallelize(a, n).leftOuterJoin(ctx.parallelize(b, m), r).collect()),
          runAction((ctx) => ctx.parallelize(a, n).rightOuterJoin(ctx.parallelize(b, m), r).collect()),
          runAction((ctx) => ctx.parallelize(a, n).fullOuterJoin(ctx.parallelize(b, m), r).collect()),
        ]);
        expect(bag(inner)).toEqual(bag(joinRef(a, b, 'inner')));
        expect(bag(left)).toEqual(bag(joinRef(a, b, 'left')));
        expect(bag(right)).toEqual(bag(joinRef(a, b, 'right')));
        expect(bag(full)).toEqual(bag(joinRef(a, b, 'full')));
      }),
      jobRuns,
    );
  });

  it('cogroup pairs each key with the values of both sides', async () => {
    await fc.assert(
      fc.asyncProperty(twoSides, async ([a, b, n, m, r]) => {
        const got = await runAction((ctx) =>
          ctx
            .parallelize(a, n)
            .cogroup(ctx.parallelize(b, m), r)
            .mapValues(([vs, ws]) => [vs.sort((x, y) => x - y), ws.sort((x, y) => x - y)])
            .collect(),
        );
        const ga = groupRef(a);
        const gb = groupRef(b);
        const ref = [...new Set([...ga.keys(), ...gb.keys()])].map((id) => [
          (ga.get(id) ?? gb.get(id))![0],
          [(ga.get(id)?.[1] ?? []).sort((x, y) => x - y), (gb.get(id)?.[1] ?? []).sort((x, y) => x - y)],
        ]);
        expect(bag(got)).toEqual(bag(ref));
      }),
      jobRuns,
    );
  });

  it('subtractByKey keeps the pairs whose key the other side lacks', async () => {
    await fc.assert(
      fc.asyncProperty(twoSides, async ([a, b, n, m, r]) => {
        const got = await runAction((ctx) =>
          ctx.parallelize(a, n).subtractByKey(ctx.parallelize(b, m), r).collect(),
        );
        const other = new Set(b.map(([k]) => canonicalKey(k)));
        expect(bag(got)).toEqual(bag(a.filter(([k]) => !other.has(canonicalKey(k)))));
      }),
      jobRuns,
    );
  });

  it('sortByKey orders keys across and within partitions, both directions', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, partitionsArb, fc.boolean(), async (pairs, n, m, asc) => {
        const got = await runAction((ctx) => ctx.parallelize(pairs, n).sortByKey(asc, m).collect());
        const ref = byKey(pairs);
        if (!asc) ref.reverse();
        expect(got.map(([k]) => k)).toEqual(ref.map(([k]) => k));
        expect(bag(got)).toEqual(bag(pairs));
      }),
      jobRuns,
    );
  });

  it('sortBy sorts records of mixed key types: null < boolean < number < string < array', async () => {
    const keys: Key[] = ['b', 3, null, [1, 'x'], true, -2, 'a', [1], false, 10, ['a']];
    const got = await runAction((ctx) =>
      ctx
        .parallelize(keys, 3)
        .map((k) => ({ k }))
        .sortBy((r) => r.k, true, 4)
        .map((r) => r.k)
        .collect(),
    );
    expect(got).toEqual([null, false, true, -2, 3, 10, 'a', 'b', [1], [1, 'x'], ['a']]);
    expect([...keys].sort(compareKeys)).toEqual(got);
  });

  it('partitionBy puts equal keys in one partition; repartition gives exactly n partitions', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, partitionsArb, async (pairs, n, m) => {
        const parts = await runAction((ctx) =>
          ctx
            .parallelize(pairs, n)
            .partitionBy(m)
            .mapPartitions((rs, p) => rs.map(([k]) => [canonicalKey(k), p] as [string, number]))
            .collect(),
        );
        const where = new Map<string, number>();
        for (const [k, p] of parts) {
          expect(where.get(k) ?? p).toBe(p);
          where.set(k, p);
        }
        const sizes = await runAction((ctx) =>
          ctx
            .parallelize(pairs, n)
            .repartition(m)
            .mapPartitions((rs) => [rs.length])
            .collect(),
        );
        expect(sizes).toHaveLength(m);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(pairs.length);
        const all = await runAction((ctx) => ctx.parallelize(pairs, n).repartition(m).collect());
        expect(bag(all)).toEqual(bag(pairs));
      }),
      jobRuns,
    );
  });

  it('countByKey counts pairs per key, sorted by key', async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb, partitionsArb, async (pairs, n) => {
        const got = await runAction((ctx) => ctx.parallelize(pairs, n).countByKey(), {
          defaultParallelism: 3,
        });
        expect(got).toEqual(byKey([...groupRef(pairs).values()].map(([k, vs]) => [k, vs.length] as const)));
      }),
      jobRuns,
    );
  });

  it('wide operations default to defaultParallelism partitions', async () => {
    const got = await runAction(
      (ctx) =>
        ctx
          .parallelize([['a', 1] as [string, number]], 2)
          .reduceByKey((a, b) => a + b)
          .mapPartitions(() => [1])
          .count(),
      { defaultParallelism: 5 },
    );
    expect(got).toBe(5);
  });
});
