import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { groupAggregator, reduceAggregator } from '../../engine/dataset/wide-ops.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { isSamplingRequest, planJob } from '../../engine/plan/stages.js';
import { decodeChunks, getCodec, jsonLinesCodec } from '../../engine/records/codec.js';
import { compareKeys } from '../../engine/records/keys.js';
import { ExternalAggregator } from '../../engine/shuffle/external-aggregator.js';
import { ExternalSorter } from '../../engine/shuffle/external-sorter.js';
import { readSegments } from '../../engine/shuffle/map-output.js';
import { MemoryTracker } from '../../engine/task/memory.js';
import type { TaskIO } from '../../engine/task/task-io.js';
import { runTask } from '../../engine/task/task-runtime.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { InMemorySpillStore } from '../../engine/testing/in-memory-spill.js';

async function drain(batches: AsyncIterable<unknown[]>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const b of batches) out.push(...b);
  return out;
}

const TINY = 4 * 1024;

/** Run partition `partition` of the first (map) stage of `job` with `budget`; its segments and metrics. */
async function mapTaskSegments(job: Parameters<typeof buildJobGraph>[0], partition: number, budget: number) {
  const graph = buildJobGraph(job, undefined, { defaultParallelism: 2 });
  const plan = planJob(graph, 'result');
  if (isSamplingRequest(plan)) throw new Error('unexpected');
  const spill = new InMemorySpillStore();
  const io = {
    spill,
    memoryBudgetBytes: budget,
    broadcastValue: () => undefined,
    readCached: () => undefined,
  } as unknown as TaskIO;
  const out = await runTask(graph, plan.stages[0]!, partition, io);
  if (out.kind !== 'shuffle-map') throw new Error('expected a map output');
  const segments = await readSegments(out.mapOutput);
  await out.mapOutput.discard();
  return {
    segments,
    sizes: [...out.mapOutput.segmentSizes],
    metrics: out.metrics,
    liveRuns: spill.live,
    spilledBytes: spill.bytesWritten,
  };
}

describe('memory budget and spill', () => {
  it('a reduce partition far larger than its budget completes with the right groups (hot key)', async () => {
    const pairs = Array.from(
      { length: 20_000 },
      (_, i) => [i % 10 === 0 ? i % 3 : 'hot', i] as [string | number, number],
    );
    const job = defineJob((ctx) =>
      ctx
        .parallelize(pairs, 4)
        .groupByKey(1)
        .mapValues((vs) => ({ n: vs.length, sum: vs.reduce((a, b) => a + b, 0) }))
        .collect(),
    );
    const run = await runJobInMemory(job, undefined, { memoryBudgetBytes: TINY });
    expect(run.spillCount).toBeGreaterThan(1);
    const expected = new Map<unknown, { n: number; sum: number }>();
    for (const [k, v] of pairs) {
      const e = expected.get(k) ?? { n: 0, sum: 0 };
      expected.set(k, { n: e.n + 1, sum: e.sum + v });
    }
    expect(new Map(run.results)).toEqual(expected);
  });

  it('a map output larger than its memory share spills, and its segments are byte-identical to an unspilled one', async () => {
    const records = Array.from({ length: 30_000 }, (_, i): [string, string] => [
      `key-${i % 997}`,
      `value ${i} ${'x'.repeat(i % 40)}`,
    ]);
    const job = defineJob((ctx) => ctx.parallelize(records, 2).groupByKey(3).count());
    const written: unknown[] = [];
    for (const partition of [0, 1]) {
      const roomy = await mapTaskSegments(job, partition, 64 << 20);
      const tiny = await mapTaskSegments(job, partition, TINY);
      expect(roomy.metrics.spillCount).toBe(0);
      expect(tiny.metrics.spillCount).toBeGreaterThan(3);
      // The bytes of the runs the store received, as the task's metrics report them.
      expect(roomy.metrics.spillBytes).toBe(0);
      expect(tiny.metrics.spillBytes).toBeGreaterThan(0);
      expect(tiny.metrics.spillBytes).toBe(tiny.spilledBytes);
      expect(tiny.sizes).toEqual(roomy.sizes);
      expect(tiny.sizes).toEqual(tiny.segments.map((s) => s.length));
      expect(tiny.segments.map((s) => s.toString('base64'))).toEqual(
        roomy.segments.map((s) => s.toString('base64')),
      );
      expect(tiny.liveRuns).toBe(0); // discard deletes every spilled run
      for (const segment of tiny.segments) {
        const chunks = (async function* () {
          yield segment;
        })();
        written.push(...(await drain(decodeChunks(getCodec(), chunks))));
      }
    }
    // The plain-JS reference: every record is in exactly one segment of one map output.
    const order = (rs: unknown[]) => rs.map((r) => JSON.stringify(r)).sort();
    expect(order(written)).toEqual(order(records));
  });

  it('a map-side combine whose flushes and output both exceed the budget still merges every key once', async () => {
    const pairs = Array.from({ length: 40_000 }, (_, i) => [`k${(i * 7919) % 6000}`, i] as [string, number]);
    const job = defineJob((ctx) =>
      ctx
        .parallelize(pairs, 2)
        .reduceByKey((a, b) => a + b, 3)
        .collect(),
    );
    const run = await runJobInMemory(job, undefined, { memoryBudgetBytes: TINY });
    expect(run.spillCount).toBeGreaterThan(0);
    const expected = new Map<string, number>();
    for (const [k, v] of pairs) expected.set(k, (expected.get(k) ?? 0) + v);
    expect(new Map(run.results)).toEqual(expected);
  });

  it('reduceByKey over many distinct keys spills and still merges every key once', async () => {
    const pairs = Array.from({ length: 30_000 }, (_, i) => [`k${i % 5000}`, 1] as [string, number]);
    const job = defineJob((ctx) =>
      ctx
        .parallelize(pairs, 3)
        .reduceByKey((a, b) => a + b, 2)
        .collect(),
    );
    const run = await runJobInMemory(job, undefined, { memoryBudgetBytes: TINY });
    expect(run.spillCount).toBeGreaterThan(0);
    expect(run.results).toHaveLength(5000);
    expect(run.results.every(([, n]) => n === 6)).toBe(true);
  });

  it('a sort larger than its budget spills sorted runs and merges them in order', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_007);
    const job = defineJob((ctx) =>
      ctx
        .parallelize(keys, 4)
        .sortBy((k) => k, false, 2)
        .collect(),
    );
    const run = await runJobInMemory(job, undefined, { memoryBudgetBytes: TINY });
    expect(run.spillCount).toBeGreaterThan(0);
    expect(run.results).toEqual([...keys].sort((a, b) => b - a));
  });

  it('the external sorter and aggregator delete every run they spilled', async () => {
    const spill = new InMemorySpillStore();
    const env = { codec: jsonLinesCodec, spill, memory: new MemoryTracker(1024) };
    const sorter = new ExternalSorter(env, 'test', true);
    const records = Array.from({ length: 3000 }, (_, i) => [(i * 31) % 1000, i]);
    await sorter.insert(records);
    const sorted = await drain(sorter.sorted());
    expect(sorted.map((r) => (r as number[])[0])).toEqual(
      records.map((r) => r[0]).sort((a, b) => compareKeys(a, b)),
    );
    const agg = new ExternalAggregator(
      env,
      reduceAggregator((a, b) => (a as number) + (b as number)),
      'test',
    );
    await agg.insert(records, false);
    const sums = await drain(agg.result());
    expect(sums).toHaveLength(1000);
    expect(spill.written).toBeGreaterThan(2);
    expect(spill.live).toBe(0);
    expect(env.memory.peakBytes).toBeGreaterThan(0);
  });

  it('a groupByKey combiner that alone exceeds the budget is spilled in parts and concatenated', async () => {
    const spill = new InMemorySpillStore();
    const env = { codec: jsonLinesCodec, spill, memory: new MemoryTracker(512) };
    const agg = new ExternalAggregator(env, groupAggregator, 'groupByKey (node 1)');
    await agg.insert(
      Array.from({ length: 2000 }, (_, i) => ['only', i]),
      false,
    );
    const [only] = (await drain(agg.result())) as [string, number[]][];
    expect(only![1].sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(spill.written).toBeGreaterThan(1);
  });
});

describe('task failures name their cause', () => {
  it('a closure that throws fails the task with USER_CODE naming the operation and stage', async () => {
    const job = defineJob((ctx) =>
      ctx
        .parallelize([1, 2, 3], 2)
        .map((x) => {
          if (x === 3) throw new Error('boom');
          return x;
        })
        .collect(),
    );
    await expect(runJobInMemory(job, undefined)).rejects.toMatchObject({
      code: 'USER_CODE',
      message: 'map (node 1) threw: boom',
      context: { stageId: 0, partition: 1 },
    });
  });

  it('an invalid key fails the shuffle with INVALID_KEY naming the wide operation', async () => {
    const job = defineJob((ctx) =>
      ctx
        .parallelize([1], 1)
        .map((x) => [{ bad: x }, x] as unknown as [string, number])
        .reduceByKey((a, b) => a + b)
        .collect(),
    );
    await expect(runJobInMemory(job, undefined)).rejects.toThrow(
      /reduceByKey \(node 2\): invalid key object/,
    );
  });

  it('a record the codec cannot encode fails with RECORD_NOT_ENCODABLE naming its producer', async () => {
    const job = defineJob((ctx) =>
      ctx
        .parallelize([1], 1)
        .map((x) => [x, () => x] as unknown as [number, number])
        .partitionBy(2)
        .collect(),
    );
    await expect(runJobInMemory(job, undefined)).rejects.toThrow(
      /map \(node 1\) produced a record that cannot be encoded/,
    );
    class Point {
      x = 1;
    }
    const collected = defineJob((ctx) =>
      ctx
        .parallelize([1], 1)
        .map(() => ({ at: new Point() }))
        .collect(),
    );
    await expect(runJobInMemory(collected, undefined)).rejects.toMatchObject({
      code: 'RECORD_NOT_ENCODABLE',
      message: expect.stringContaining('its collect result[0].at: an instance of Point'),
    });
  });

  it('a stage from a different graph shape is refused as a non-deterministic builder', async () => {
    const job = defineJob((ctx) => ctx.parallelize([1, 2], 2).count());
    const graph = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    const plan = planJob(graph, 'result');
    if (isSamplingRequest(plan)) throw new Error('unexpected');
    const io = {} as TaskIO;
    await expect(runTask(graph, plan.stages[0]!, 0, io, { fingerprint: 'other' })).rejects.toMatchObject({
      code: 'NONDETERMINISTIC_BUILDER',
    });
  });

  it('a rebuild whose parallelize data differs at the same length is refused, naming the parallelize', async () => {
    const job = defineJob((ctx, p: { data: number[] }) => ctx.parallelize(p.data, 2).count());
    const driver = buildJobGraph(job, { data: [1, 2, 3, 4] }, { defaultParallelism: 2 });
    const plan = planJob(driver, 'result');
    if (isSamplingRequest(plan)) throw new Error('unexpected');
    const rebuilt = buildJobGraph(job, { data: [1, 2, 3, 5] }, { defaultParallelism: 2 });
    const io = {} as TaskIO;
    const run = runTask(rebuilt, plan.stages[0]!, 0, io, {
      fingerprint: plan.fingerprint,
      parallelizeDigests: driver.parallelizeDigests,
    });
    await expect(run).rejects.toMatchObject({
      code: 'NONDETERMINISTIC_BUILDER',
      message: expect.stringContaining('the data given to parallelize (node 0) differs'),
    });
  });

  it('a shuffle-map task returns one segment per reduce partition, some empty', async () => {
    const job = defineJob((ctx) =>
      ctx
        .parallelize([['a', 1]] as [string, number][], 1)
        .reduceByKey((a, b) => a + b, 4)
        .count(),
    );
    const graph = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    const plan = planJob(graph, 'result');
    if (isSamplingRequest(plan)) throw new Error('unexpected');
    const io: TaskIO = {
      readSource: () => {
        throw new Error('no sources');
      },
      readShuffle: () => {
        throw new Error('no shuffles');
      },
      readCached: () => undefined,
      broadcastValue: () => undefined,
      openSavedPart: () => {
        throw new Error('no saves');
      },
      spill: new InMemorySpillStore(),
      memoryBudgetBytes: 1 << 20,
    };
    const out = await runTask(graph, plan.stages[0]!, 0, io);
    if (out.kind !== 'shuffle-map') throw new Error('expected a map output');
    const segments = await readSegments(out.mapOutput);
    expect(segments).toHaveLength(4);
    expect(segments.filter((s) => s.length > 0)).toHaveLength(1);
    expect(out.mapOutput.segmentSizes).toEqual(segments.map((s) => s.length));
    expect(out.metrics).toMatchObject({ recordsRead: 1, recordsWritten: 1 });
    expect(out.metrics.shuffleWriteBytes).toBe(segments.reduce((n, s) => n + s.length, 0));
  });
});
