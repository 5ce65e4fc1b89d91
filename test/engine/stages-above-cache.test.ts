/**
 * Stages above a dataset read from blobs (issue 15): planJob lists the shuffle-map stages of the
 * lineage above a cache()/persist('blob') node, flagged `aboveCache`, as Spark's DAGScheduler lists
 * every stage of the lineage and shows those above a cached RDD as skipped. The reference for each
 * listed stage is the stage the same job plans when nothing is cached yet (the cold plan). A
 * checkpoint truncates lineage, so nothing is listed above it; the in-memory runner never runs a
 * listed stage and still gives plain JS's results.
 */
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { describePlan } from '../../engine/plan/explain.js';
import { buildJobGraph, type JobGraph } from '../../engine/plan/graph.js';
import { isSamplingRequest, type JobPlan, planJob, type StagePlan } from '../../engine/plan/stages.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';

function plan(result: ReturnType<typeof planJob>): JobPlan {
  if (isSamplingRequest(result)) throw new Error('unexpected sampling request');
  return result;
}

/** The fields a listed stage shares with the stage that computed its shuffle. */
function shape(s: StagePlan) {
  return {
    kind: s.kind,
    rddNodeId: s.rddNodeId,
    numPartitions: s.numPartitions,
    pipeline: s.pipeline,
    shuffle: s.shuffle,
    shuffleReads: s.shuffleReads,
  };
}

/** The id of the node labelled `op` (the first one). */
function nodeOf(graph: JobGraph, op: string): number {
  const node = graph.nodes.find((n) => n.op === op);
  if (!node) throw new Error(`no ${op} node`);
  return node.id;
}

/** Two shuffles (reduceByKey, then groupByKey) above a cached mapValues; the action counts it. */
const twoShufflesThenCache = defineJob((ctx) => {
  const sums = ctx
    .parallelize([1, 2, 3, 4, 5, 6], 3)
    .map((x) => [x % 3, x] as [number, number])
    .reduceByKey((a, b) => a + b, 2);
  const cached = sums
    .map(([k, v]) => [v % 2, k] as [number, number])
    .groupByKey(2)
    .mapValues((ks) => ks.length)
    .cache();
  return cached.count();
});

describe('stages above a cached dataset', () => {
  it('lists every shuffle-map stage of the lineage above the cached node, as the cold plan has them, flagged', () => {
    const g = buildJobGraph(twoShufflesThenCache, undefined, { defaultParallelism: 2 });
    const cachedNode = nodeOf(g, 'mapValues');
    const cold = plan(planJob(g, 'result'));
    const warm = plan(planJob(g, 'result', { cachedNodes: new Set([cachedNode]) }));
    expect(cold.stages.map((s) => s.kind)).toEqual(['shuffle-map', 'shuffle-map', 'result']);
    expect(warm.stages).toHaveLength(cold.stages.length);
    const listed = warm.stages.filter((s) => s.aboveCache !== undefined);
    expect(listed.map(shape)).toEqual(cold.stages.slice(0, 2).map(shape));
    expect(listed.map((s) => s.aboveCache)).toEqual([cachedNode, cachedNode]);
    // The reading stage runs the action from the cached partitions and lists the stage above as its parent.
    const reader = warm.stages[warm.resultStageId]!;
    expect(reader.aboveCache).toBeUndefined();
    expect(reader.cacheReads).toEqual([cachedNode]);
    expect(reader.shuffleReads).toEqual([]);
    expect(reader.parents).toEqual([listed[1]!.stageId]);
    // Parents first: a listed stage's parents come before it.
    for (const s of warm.stages) for (const p of s.parents) expect(p).toBeLessThan(s.stageId);
    expect(JSON.parse(JSON.stringify(warm.stages))).toEqual(warm.stages);
    const text = describePlan(warm);
    expect(text).toContain('3 stages (2 above a cached dataset, skipped)');
    expect(text.match(/skipped: above the cached mapValues/g)).toHaveLength(2);
    // The listed stages count no task: only the reading stage's 2 partitions run.
    expect(text).toContain(`, ${reader.numPartitions} tasks`);
  });

  it('a shuffle that a running stage also reads is not flagged: its stage runs (or is reused) as before', () => {
    const job = defineJob((ctx) => {
      const sums = ctx
        .parallelize([1, 2, 3, 4], 2)
        .map((x) => [x % 2, x] as [number, number])
        .reduceByKey((a, b) => a + b, 2);
      const doubled = sums.mapValues((v) => v * 2).cache();
      // The union reads the cached side and, through sums, the shuffle above it.
      return doubled.union(sums.filter(([k]) => k === 0)).count();
    });
    const g = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    const cachedNode = nodeOf(g, 'mapValues');
    const cold = plan(planJob(g, 'result'));
    const warm = plan(planJob(g, 'result', { cachedNodes: new Set([cachedNode]) }));
    expect(warm.stages.map((s) => s.aboveCache)).toEqual([undefined, undefined]);
    expect(shape(warm.stages[0]!)).toEqual(shape(cold.stages[0]!));
    expect(warm.stages[1]!.cacheReads).toEqual([cachedNode]);
    expect(warm.stages[1]!.shuffleReads).toEqual(cold.stages[1]!.shuffleReads);
  });

  it('an unsampled sort above a cache handed on from an earlier run asks for no sampling job: the stored count is read, the listed stage counts the partitions asked for', () => {
    const job = defineJob((ctx) => {
      const sorted = ctx
        .parallelize([5, 3, 9, 1], 2)
        .map((x) => [x, x] as [number, number])
        .sortByKey(true, 3)
        .map(([k]) => k)
        .cache();
      return sorted.count();
    });
    const g = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    const cachedNode = g.nodes.filter((n) => n.op === 'map').at(-1)!.id;
    // This run sampled nothing: the earlier run's sort got 2 partitions (fewer distinct keys than asked).
    const warm = plan(
      planJob(g, 'result', {
        cachedNodes: new Set([cachedNode]),
        cachedPartitions: new Map([[cachedNode, 2]]),
      }),
    );
    expect(warm.stages.map((s) => [s.kind, s.aboveCache])).toEqual([
      ['shuffle-map', cachedNode],
      ['result', undefined],
    ]);
    expect(warm.stages[0]!.shuffle!.numReducePartitions).toBe(3);
    expect(warm.stages[0]!.numPartitions).toBe(2);
    expect(warm.stages[1]!.numPartitions).toBe(2);
  });

  it('a checkpoint truncates lineage: nothing is listed above it', () => {
    const job = defineJob((ctx) => {
      const grouped = ctx
        .parallelize([1, 2, 3], 2)
        .map((x) => [x % 2, x] as [number, number])
        .groupByKey(2);
      grouped.checkpoint();
      return grouped.count();
    });
    const g = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    const checkpointed = nodeOf(g, 'groupByKey');
    const warm = plan(planJob(g, 'result', { cachedNodes: new Set([checkpointed]) }));
    expect(warm.stages).toHaveLength(1);
    expect(warm.stages[0]!).toMatchObject({
      parents: [],
      cacheReads: [checkpointed],
      checkpoints: [checkpointed],
    });
  });

  it('the in-memory runner runs no listed stage and gives plain JS results', async () => {
    const data = Array.from({ length: 40 }, (_, i) => (i * 7) % 13);
    const job = defineJob((ctx) => {
      const sums = ctx
        .parallelize(data, 4)
        .map((x) => [x % 5, x] as [number, number])
        .reduceByKey((a, b) => a + b, 3)
        .cache();
      return { first: sums.count(), second: sums.collect() };
    });
    const run = await runJobInMemory(job, undefined, { defaultParallelism: 2 });
    const expected = new Map<number, number>();
    for (const x of data) expected.set(x % 5, (expected.get(x % 5) ?? 0) + x);
    const results = run.results as { first: number; second: [number, number][] };
    expect(results.first).toBe(expected.size);
    expect([...results.second].sort((a, b) => a[0] - b[0])).toEqual(
      [...expected].sort((a, b) => a[0] - b[0]),
    );
    const [first, second] = run.jobs;
    expect(first!.plan.stages.some((s) => s.aboveCache !== undefined)).toBe(false);
    const listed = second!.plan.stages.filter((s) => s.aboveCache !== undefined).map((s) => s.stageId);
    expect(listed).toHaveLength(1);
    expect(second!.stagesSkipped).toEqual(listed);
    expect(second!.stagesRun).toEqual([second!.plan.resultStageId]);
  });
});
