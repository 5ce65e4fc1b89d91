import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { decodeBroadcastValue, encodeBroadcastValue } from '../../engine/dataset/shared-variables.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { isSamplingRequest, planJob } from '../../engine/plan/stages.js';
import type { TaskIO } from '../../engine/task/task-io.js';
import { runTask } from '../../engine/task/task-runtime.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { intsArb, jobRuns, partitionsArb, runAction } from './run-helpers.js';

describe('actions', () => {
  it('count, collect and take agree with the array, across empty partitions', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, fc.nat(40), async (data, n, k) => {
        const job = defineJob((ctx) => {
          const ds = ctx.parallelize(data, n);
          return { count: ds.count(), all: ds.collect(), some: ds.take(k) };
        });
        const { results } = await runJobInMemory(job, undefined);
        expect(results).toEqual({ count: data.length, all: data, some: data.slice(0, k) });
      }),
      jobRuns,
    );
  });

  it('first returns the first record and fails with EMPTY_COLLECTION on an empty dataset', async () => {
    expect(await runAction((ctx) => ctx.parallelize([5, 6, 7], 4).first())).toBe(5);
    await expect(runAction((ctx) => ctx.parallelize([] as number[], 3).first())).rejects.toMatchObject({
      code: 'EMPTY_COLLECTION',
    });
  });

  it('reduce folds all records and fails with "empty collection" when there are none', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, n) => {
        const run = runAction((ctx) => ctx.parallelize(data, n).reduce((a, b) => a + b));
        if (data.length === 0) await expect(run).rejects.toThrow(/empty collection/);
        else expect(await run).toBe(data.reduce((a, b) => a + b));
      }),
      jobRuns,
    );
  });

  it('fold applies zero once per partition and once on the driver, as Spark', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, n) => {
        const got = await runAction((ctx) => ctx.parallelize(data, n).fold(1, (a, b) => a + b));
        expect(got).toBe(data.reduce((a, b) => a + b, 0) + n + 1);
      }),
      jobRuns,
    );
  });

  it('aggregate folds with seqOp per partition and combOp on the driver, never sharing zero', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, n) => {
        const got = await runAction((ctx) =>
          ctx.parallelize(data, n).aggregate(
            [] as number[],
            (acc, x) => {
              acc.push(x);
              return acc;
            },
            (a, b) => a.concat(b),
          ),
        );
        expect(got).toEqual(data);
      }),
      jobRuns,
    );
  });

  it('saveAsTextFile writes one list of lines per partition; non-strings as JSON', async () => {
    const job = defineJob((ctx) =>
      ctx.parallelize(['a', 1, [2, 'b'], { c: true }], 2).saveAsTextFile('out/'),
    );
    const { results, savedFiles } = await runJobInMemory(job, undefined);
    expect(results).toEqual({ path: 'out/', partitions: 2, records: 4 });
    expect(savedFiles.get('out/')).toEqual([
      ['a', '1'],
      ['[2,"b"]', '{"c":true}'],
    ]);
  });

  it('a save task streams its part file to the sink batch by batch, header first, and closes it', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => [i, `name ${i}`]);
    const job = defineJob((ctx) =>
      ctx.parallelize(rows, 1).saveAsCsv('out', { columns: ['id', 'name'], header: true }),
    );
    const graph = buildJobGraph(job, undefined, { defaultParallelism: 1 });
    const plan = planJob(graph, { name: graph.actionNames[0]! });
    if (isSamplingRequest(plan)) throw new Error('unexpected');
    const writes: string[] = [];
    let closed = 0;
    const io = {
      openSavedPart: () => ({
        write: async (text: string) => {
          writes.push(text);
        },
        close: async () => {
          closed++;
        },
      }),
    } as unknown as TaskIO;
    const out = await runTask(graph, plan.stages[0]!, 0, io);
    const expected = `id,name\n${rows.map(([i, n]) => `${i},${n}`).join('\n')}\n`;
    expect(writes.join('')).toBe(expected);
    // Never the whole partition in one piece: one write per batch of records.
    expect(writes.length).toBe(Math.ceil(rows.length / 1024));
    expect(closed).toBe(1);
    expect(out).toMatchObject({
      kind: 'saved-part',
      result: { records: 5000, bytes: Buffer.byteLength(expected) },
    });
  });

  it('saveAsCsv with a header writes it first in every non-empty part file only', async () => {
    const job = defineJob((ctx) =>
      ctx
        .parallelize(
          [
            ['a', 1],
            ['b', 2],
            ['c', 3],
          ],
          3,
        )
        .filter(([k]) => k !== 'b')
        .saveAsCsv('csv/', { columns: ['k', 'n'], header: true }),
    );
    const { results, savedFiles } = await runJobInMemory(job, undefined);
    expect(results).toEqual({ path: 'csv/', partitions: 3, records: 2 });
    expect(savedFiles.get('csv/')).toEqual([['k,n', 'a,1'], [], ['k,n', 'c,3']]);
  });

  it('saveAsJsonLines writes JSON lines and rejects records it cannot encode', async () => {
    const ok = defineJob((ctx) => ctx.parallelize(['a', { b: 1 }], 1).saveAsJsonLines('o'));
    expect((await runJobInMemory(ok, undefined)).savedFiles.get('o')).toEqual([['"a"', '{"b":1}']]);
    const bad = defineJob((ctx) =>
      ctx
        .parallelize([1], 1)
        .map((x) => new Map([[x, x]]))
        .saveAsJsonLines('o'),
    );
    await expect(runJobInMemory(bad, undefined)).rejects.toMatchObject({ code: 'RECORD_NOT_ENCODABLE' });
  });

  it('named actions run as jobs in order and a single action returns its bare value', async () => {
    const multi = defineJob((ctx) => ({
      b: ctx.parallelize([1, 2]).count(),
      a: ctx.parallelize([3]).collect(),
    }));
    const run = await runJobInMemory(multi, undefined);
    expect(Object.keys(run.results)).toEqual(['b', 'a']);
    expect(run.jobs.map((j) => j.action)).toEqual([{ name: 'b' }, { name: 'a' }]);
    const single = await runJobInMemory(
      defineJob((ctx) => ctx.parallelize([1, 2]).count()),
      undefined,
    );
    expect(single.results).toBe(2);
  });
});

describe('shared variables and cache', () => {
  it('accumulators sum the updates of every task once; broadcast values are read inside tasks', async () => {
    const job = defineJob((ctx, p: { factor: number }) => {
      const seen = ctx.accumulator('seen', 0);
      const odd = ctx.accumulator('odd', [] as number[]);
      const factor = ctx.broadcast({ k: p.factor });
      return ctx
        .parallelize([1, 2, 3, 4, 5], 3)
        .map((x) => {
          seen.add(1);
          if (x % 2 === 1) odd.add([x]);
          return x * factor.value.k;
        })
        .collect();
    });
    const run = await runJobInMemory(job, { factor: 10 });
    expect(run.results).toEqual([10, 20, 30, 40, 50]);
    expect(run.accumulators.seen).toBe(5);
    expect((run.accumulators.odd as number[]).sort()).toEqual([1, 3, 5]);
  });

  it("tasks read the driver's broadcast value, not the one their own rebuild of the builder computes", async () => {
    let builds = 0;
    const job = defineJob((ctx) => {
      builds += 1; // the driver's build is the first; every task rebuilds the graph
      const build = ctx.broadcast({ build: builds });
      return ctx
        .parallelize([1, 2, 3, 4], 4)
        .map((x) => [x, build.value.build])
        .collect();
    });
    const run = await runJobInMemory(job, undefined);
    expect(builds).toBeGreaterThan(1);
    expect(run.results).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
  });

  it('a broadcast value goes through the record codec: record values round-trip, a function is refused by path', async () => {
    const value = {
      table: { a: [1, 2.5, null], é: 'ü' },
      ok: true,
      since: new Date(5),
      ids: new Map([['a', 1n]]),
    };
    expect(decodeBroadcastValue(encodeBroadcastValue(3, value))).toEqual(value);
    expect(() => encodeBroadcastValue(2, new Map([['a', { f: () => 1 }]]))).toThrow(
      expect.objectContaining({
        code: 'BROADCAST_NOT_ENCODABLE',
        message: 'broadcast 2: its value cannot be shipped to executors: value.get("a").f: a function (f)',
      }),
    );
  });

  it('reading a broadcast value in the builder is an error', async () => {
    const job = defineJob((ctx) => {
      const b = ctx.broadcast(1);
      return ctx.parallelize([b.value]).count();
    });
    await expect(runJobInMemory(job, undefined)).rejects.toMatchObject({ code: 'BROADCAST_OUTSIDE_TASK' });
  });

  it('a cached dataset is computed once: later jobs read it and skip its stages', async () => {
    const job = defineJob((ctx) => {
      const computed = ctx.accumulator('computed', 0);
      const grouped = ctx
        .parallelize(
          Array.from({ length: 50 }, (_, i) => [i % 7, i] as [number, number]),
          4,
        )
        .map((pair) => {
          computed.add(1);
          return pair;
        })
        .groupByKey(3)
        .mapValues((vs) => vs.length)
        .cache();
      return { first: grouped.count(), second: grouped.values().reduce((a, b) => a + b) };
    });
    const run = await runJobInMemory(job, undefined);
    expect(run.results).toEqual({ first: 7, second: 50 });
    expect(run.accumulators.computed).toBe(50);
    const second = run.jobs[1]!;
    // The stage above the cache is listed (as Spark lists it) and skipped; only the reader runs.
    expect(second.plan.stages).toHaveLength(2);
    expect(second.stagesSkipped).toEqual([0]);
    expect(second.stagesRun).toEqual([1]);
    expect(second.plan.stages[1]!.cacheReads).toHaveLength(1);
  });

  it('a shuffle computed by an earlier job is reused, its map stage skipped', async () => {
    const job = defineJob((ctx) => {
      const counts = ctx
        .parallelize(['a', 'b', 'a'], 2)
        .map((w) => [w, 1] as [string, number])
        .reduceByKey((a, b) => a + b);
      return { n: counts.count(), all: counts.collect() };
    });
    const run = await runJobInMemory(job, undefined);
    expect(run.jobs[1]!.stagesSkipped).toEqual([0]);
    expect(run.jobs[1]!.stagesRun).toEqual([1]);
  });
});
