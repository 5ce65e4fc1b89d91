/**
 * Record values end to end in the in-memory runner: every value type goes through a shuffle
 * (with a spill), a cache, a broadcast, params and collect, and arrives exactly; Date, bigint
 * and byte keys group and sort as a plain-JS reference says; what the encoding cannot carry is
 * refused before the job runs where the driver knows the value, naming its path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJobParams } from '../../driver/app/params.js';
import { defineJob } from '../../engine/dataset/job.js';
import { compareKeys, type Key } from '../../engine/records/keys.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { keyArb, recordValueArb } from './arbitraries.js';

/** One record of every value type (with awkward property names), tagged by `i`. */
function richRecord(i: number): Record<string, unknown> {
  return {
    i,
    negZero: -0,
    nan: Number.NaN,
    inf: i % 2 === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY,
    big: 2n ** 70n + BigInt(i),
    at: new Date(Date.UTC(2024, 0, 1) + i),
    bad: new Date(Number.NaN),
    bytes: Buffer.from([i, 255]),
    view: new Uint8Array([i]),
    floats: new Float64Array([i / 3, -0]),
    tags: new Set(['a', i]),
    index: new Map<unknown, unknown>([
      [i, 'n'],
      [new Date(i), [undefined, null]],
    ]),
    lone: `x\ud800${i}`,
    nothing: undefined,
    ...JSON.parse(`{"__proto__": ${i}}`),
  };
}

describe('record values through every path of a job', () => {
  it('shuffle (spilled), cache, broadcast, params and collect carry every value type exactly', async () => {
    const job = defineJob((ctx, p: { since: Date; ids: Map<string, bigint> }) => {
      const lookup = ctx.broadcast({ since: p.since, ids: p.ids, raw: Buffer.from('hi') });
      const records = ctx
        .parallelize(
          Array.from({ length: 300 }, (_, i) => i),
          3,
        )
        .map((i) => [i % 7, richRecord(i)] as [number, Record<string, unknown>])
        .partitionBy(4)
        .cache();
      return {
        grouped: records
          .groupByKey(2)
          .mapValues((values) => values.length)
          .collect(),
        again: records.values().collect(),
        seen: records
          .map(() => [lookup.value.since, lookup.value.ids.get('a'), lookup.value.raw] as const)
          .take(1),
      };
    });
    const since = new Date(Date.UTC(2020, 1, 2));
    const { results } = await runJobInMemory(
      job,
      { since, ids: new Map([['a', 2n ** 65n]]) },
      // A tiny budget: the shuffle's map outputs and the groupByKey spill.
      { memoryBudgetBytes: 16 * 1024 },
    );
    const expected = Array.from({ length: 300 }, (_, i) => richRecord(i));
    const byI = (a: unknown, b: unknown) => (a as { i: number }).i - (b as { i: number }).i;
    const again = [...(results.again as Record<string, unknown>[])].sort(byI);
    expect(again).toStrictEqual(expected);
    expect(
      again.every((r, i) => Object.is(r.negZero, -0) && Buffer.isBuffer(r.bytes) && r.lone === `x\ud800${i}`),
    ).toBe(true);
    expect(
      again.every((r) => Object.hasOwn(r, '__proto__') && Object.getPrototypeOf(r) === Object.prototype),
    ).toBe(true);
    expect([...(results.grouped as [number, number][])].sort((a, b) => a[0] - b[0])).toEqual(
      Array.from({ length: 7 }, (_, k) => [k, Math.ceil((300 - k) / 7)]),
    );
    const [seen] = results.seen as [Date, bigint, Buffer][];
    expect(seen).toStrictEqual([since, 2n ** 65n, Buffer.from('hi')]);
  });

  it('Date, bigint and byte keys reduce and sort as a plain-JS reference says', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(keyArb, fc.integer({ min: -9, max: 9 })), { maxLength: 60 }),
        async (pairs) => {
          const job = defineJob((ctx) => {
            const data = ctx.parallelize(pairs, 3);
            return {
              sums: data.reduceByKey((a, b) => a + b, 3).collect(),
              sorted: data.sortByKey(true, 3).keys().collect(),
              descending: data.sortByKey(false, 2).keys().collect(),
            };
          });
          const { results } = await runJobInMemory(job, undefined);
          // Reference: a Map from canonical equality (compareKeys) to the sum, and Array.sort.
          const reference: [Key, number][] = [];
          for (const [k, v] of pairs) {
            const entry = reference.find(([r]) => compareKeys(r, k) === 0);
            if (entry) entry[1] += v;
            else reference.push([k, v]);
          }
          const byKey = (a: [Key, number], b: [Key, number]) => compareKeys(a[0], b[0]);
          // Keys compare by identity: a Buffer and a Uint8Array of the same bytes are one key, and
          // either may stand for it in the result.
          const sums = [...(results.sums as [Key, number][])].sort(byKey);
          reference.sort(byKey);
          expect(sums.map(([k, v], i) => [compareKeys(k, reference[i]![0]), v])).toEqual(
            reference.map(([, v]) => [0, v]),
          );
          const keys = pairs.map(([k]) => k);
          const sortedKeys = results.sorted as Key[];
          expect(sortedKeys.map((k, i) => compareKeys(k, [...keys].sort(compareKeys)[i]))).toEqual(
            keys.map(() => 0),
          );
          const descending = results.descending as Key[];
          for (let i = 1; i < descending.length; i++)
            expect(compareKeys(descending[i - 1], descending[i])).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('arbitrary record values survive a shuffle and a collect', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordValueArb, { maxLength: 20 }), async (values) => {
        const job = defineJob((ctx) =>
          ctx
            .parallelize(
              values.map((_, i) => i),
              2,
            )
            .map((i) => [i, values[i]] as [number, unknown])
            .partitionBy(3)
            .collect(),
        );
        const { results } = await runJobInMemory(job, undefined);
        const back = [...(results as [number, unknown][])].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
        expect(back).toStrictEqual(
          values.map((v) =>
            v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === null ? { ...v } : v,
          ),
        );
      }),
      { numRuns: 30 },
    );
  });
});

describe('values the encoding cannot carry are refused, naming the path', () => {
  it('parallelize data, before any task runs', async () => {
    let ran = false;
    const job = defineJob((ctx) =>
      ctx
        .parallelize([1, { items: new Map([['x', () => 1]]) }], 1)
        .map((r) => {
          ran = true;
          return r;
        })
        .count(),
    );
    await expect(runJobInMemory(job, undefined)).rejects.toMatchObject({
      code: 'RECORD_NOT_ENCODABLE',
      retryable: false,
      message: expect.stringMatching(
        /parallelize .*produced a record that cannot be encoded: data\[1\]\.items\.get\("x"\): a function/,
      ),
    });
    expect(ran).toBe(false);
  });

  it('broadcast values, before any task runs', async () => {
    class Rates {
      eur = 1;
    }
    const job = defineJob((ctx) => {
      const rates = ctx.broadcast({ table: [new Rates()] });
      return ctx
        .parallelize([1], 1)
        .map(() => rates.value)
        .count();
    });
    await expect(runJobInMemory(job, undefined)).rejects.toMatchObject({
      code: 'BROADCAST_NOT_ENCODABLE',
      message: expect.stringContaining(
        'broadcast 0: its value cannot be shipped to executors: value.table[0]: an instance of Rates',
      ),
    });
  });

  it('params, naming the param', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => checkJobParams({ since: new Date(), big: 1n, ok: new Map([[1, 2]]) })).not.toThrow();
    expect(() => checkJobParams({ tz: { zone: Symbol('utc') } })).toThrow(
      expect.objectContaining({
        code: 'PARAMS_INVALID',
        message: expect.stringContaining('params.tz.zone: a symbol'),
      }),
    );
    expect(() => checkJobParams({ c: cycle })).toThrow(/params\.c\.self: a cycle/);
  });

  it('records an operation produces, when a task encodes them, naming the operator (not retryable)', async () => {
    const job = defineJob((ctx) =>
      ctx
        .parallelize([1, 2], 1)
        .map((i) => [i, { items: new Map([['x', new WeakMap()]]) }] as [number, unknown])
        .groupByKey(2)
        .count(),
    );
    await expect(runJobInMemory(job, undefined)).rejects.toMatchObject({
      code: 'RECORD_NOT_ENCODABLE',
      retryable: false,
      message: expect.stringMatching(
        /map .*produced a record that cannot be encoded: record\[1\]\.items\.get\("x"\): an instance of WeakMap/,
      ),
    });
  });
});
