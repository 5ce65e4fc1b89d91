import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { describePlan } from '../../engine/plan/explain.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { isSamplingRequest, type JobPlan, planJob } from '../../engine/plan/stages.js';

const wordcount = defineJob((ctx, p: { input: string; n?: number }) => {
  const counts = ctx
    .textFile(p.input)
    .flatMap((line) => line.split(/\W+/))
    .filter((w) => w.length > 0)
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b, p.n);
  return { top: counts.sortBy(([, n]) => -n).take(10), distinct: counts.count() };
});

function plan(result: ReturnType<typeof planJob>): JobPlan {
  if (isSamplingRequest(result)) throw new Error('unexpected sampling request');
  return result;
}

describe('stage splitting', () => {
  const graph = buildJobGraph(wordcount, { input: 'data/*.txt' }, { defaultParallelism: 4 });
  const sourcePartitions = new Map([[0, 3]]);

  it('pipelines narrow operations and cuts a stage at the shuffle', () => {
    const p = plan(planJob(graph, 'distinct', { sourcePartitions }));
    expect(p.stages.map((s) => [s.stageId, s.kind, s.numPartitions, s.parents])).toEqual([
      [0, 'shuffle-map', 3, []],
      [1, 'result', 4, [0]],
    ]);
    expect(p.stages[0]!.pipeline).toEqual([0, 1, 2, 3]);
    expect(p.stages[0]!.shuffle).toEqual({
      shuffleId: 0,
      numReducePartitions: 4,
      partitioner: { kind: 'hash', n: 4 },
      mapSideCombine: true,
    });
    expect(p.resultStageId).toBe(1);
    expect(JSON.parse(JSON.stringify(p.stages))).toEqual(p.stages);
  });

  it('a sort asks for a sampling job over its parent, then plans with the bounds', () => {
    const first = planJob(graph, 'top', { sourcePartitions });
    expect(isSamplingRequest(first)).toBe(true);
    if (!isSamplingRequest(first)) return;
    const sortNode = first.needsSampling!.nodeId;
    expect(graph.node(sortNode).op).toBe('sortByKey');
    const sampling = plan(planJob(graph, first.needsSampling!.sampleAction, { sourcePartitions }));
    expect(sampling.stages.at(-1)!.rddNodeId).toBe(graph.node(sortNode).parents[0]);
    const p = plan(planJob(graph, 'top', { sourcePartitions, rangeBounds: new Map([[sortNode, [-5, -2]]]) }));
    expect(p.stages.map((s) => s.kind)).toEqual(['shuffle-map', 'shuffle-map', 'result']);
    expect(p.stages[1]!.shuffle!.partitioner).toEqual({ kind: 'range', bounds: [-5, -2], ascending: true });
    expect(p.stages[2]!.numPartitions).toBe(3);
    // The reduceByKey shuffle keeps its id across jobs so the driver can skip it.
    expect(p.stages[0]!.shuffle!.shuffleId).toBe(0);
    expect(describePlan(p)).toContain('Stage 2 (result, 3 partitions) after stage 1');
  });

  it('a cached node is read, not recomputed: the stage above it is listed, flagged, and the reader waits on nothing else', () => {
    const job = defineJob((ctx) => {
      const pairs = ctx.parallelize([1, 2, 3], 2).map((x) => [x % 2, x] as [number, number]);
      const grouped = pairs.groupByKey(2).cache();
      return grouped.mapValues((vs) => vs.length).collect();
    });
    const g = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    const cold = plan(planJob(g, 'result'));
    expect(cold.stages).toHaveLength(2);
    expect(cold.stages[1]!.cacheWrites).toEqual([2]);
    const warm = plan(planJob(g, 'result', { cachedNodes: new Set([2]) }));
    expect(warm.stages).toHaveLength(2);
    expect(warm.stages[0]!.aboveCache).toBe(2);
    expect(warm.stages[1]!.cacheReads).toEqual([2]);
    expect(warm.stages[1]!.pipeline).toEqual([2, 3]);
  });

  it('a join plans one map stage per side and one result stage', () => {
    const job = defineJob((ctx) => {
      const a = ctx.parallelize([[1, 'a']] as [number, string][], 2);
      const b = ctx.parallelize([[1, 'b']] as [number, string][], 3);
      return a.join(b, 5).count();
    });
    const p = plan(planJob(buildJobGraph(job, undefined, { defaultParallelism: 2 }), 'result'));
    expect(p.stages.map((s) => [s.kind, s.numPartitions])).toEqual([
      ['shuffle-map', 2],
      ['shuffle-map', 3],
      ['result', 5],
    ]);
    expect(p.stages[2]!.shuffleReads).toEqual([
      { shuffleId: 0, numMapPartitions: 2 },
      { shuffleId: 1, numMapPartitions: 3 },
    ]);
  });

  it('union sums partitions and coalesce never increases them', () => {
    const job = defineJob((ctx) => {
      const a = ctx.parallelize([1], 2).union(ctx.parallelize([2], 3));
      return { u: a.count(), c: a.coalesce(2).count(), up: a.coalesce(10).count() };
    });
    const g = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    expect(plan(planJob(g, 'u')).stages[0]!.numPartitions).toBe(5);
    expect(plan(planJob(g, 'c')).stages[0]!.numPartitions).toBe(2);
    expect(plan(planJob(g, 'up')).stages[0]!.numPartitions).toBe(5);
  });

  it('an unsplit file source is an error naming the source', () => {
    expect(() => planJob(graph, 'distinct')).toThrow(/textFile \(node 0\).*data\/\*\.txt/);
  });
});

describe('job graph', () => {
  it('node ids follow construction order and the fingerprint is stable across builds', () => {
    const a = buildJobGraph(wordcount, { input: 'x' }, { defaultParallelism: 4 });
    const b = buildJobGraph(wordcount, { input: 'x' }, { defaultParallelism: 4 });
    expect(a.nodes.map((n) => n.op)).toEqual(b.nodes.map((n) => n.op));
    expect(a.nodes[0]!.op).toBe('textFile');
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('the fingerprint differs when the builder changes shape', () => {
    const base = buildJobGraph(wordcount, { input: 'x' }, { defaultParallelism: 4 }).fingerprint;
    expect(buildJobGraph(wordcount, { input: 'x', n: 7 }, { defaultParallelism: 4 }).fingerprint).not.toBe(
      base,
    );
    expect(buildJobGraph(wordcount, { input: 'y' }, { defaultParallelism: 4 }).fingerprint).not.toBe(base);
    expect(buildJobGraph(wordcount, { input: 'x' }, { defaultParallelism: 3 }).fingerprint).not.toBe(base);
    let calls = 0;
    const flaky = defineJob((ctx) => {
      calls++;
      const ds = ctx.parallelize([1, 2, 3]);
      return (calls % 2 === 0 ? ds.filter((x) => x > 1) : ds.map((x) => x)).count();
    });
    const f1 = buildJobGraph(flaky, undefined, { defaultParallelism: 2 }).fingerprint;
    const f2 = buildJobGraph(flaky, undefined, { defaultParallelism: 2 }).fingerprint;
    expect(f1).not.toBe(f2);
  });

  it('the fingerprint differs when parallelize data changes but keeps its length', () => {
    const job = defineJob((ctx, p: { data: number[] }) => ctx.parallelize(p.data, 2).count());
    const of = (data: number[]) => buildJobGraph(job, { data }, { defaultParallelism: 2 }).fingerprint;
    expect(of([1, 2, 3, 4])).toBe(of([1, 2, 3, 4]));
    expect(of([1, 2, 3, 5])).not.toBe(of([1, 2, 3, 4]));
    expect(of([4, 3, 2, 1])).not.toBe(of([1, 2, 3, 4]));
  });

  it('the fingerprint ignores closures, so equal shapes with different lambdas match', () => {
    const mk = (k: number) =>
      buildJobGraph(
        defineJob((ctx) =>
          ctx
            .parallelize([1, 2])
            .map((x) => x * k)
            .count(),
        ),
        undefined,
        { defaultParallelism: 2 },
      ).fingerprint;
    expect(mk(2)).toBe(mk(3));
  });

  it('defineJob records the calling module', () => {
    expect(wordcount.moduleUrl).toMatch(/^file:\/\/.*test\/engine\/stages\.test\.ts$/);
  });

  it('a builder that returns no action or a promise is rejected', () => {
    expect(() =>
      buildJobGraph(
        defineJob(() => ({}) as never),
        undefined,
        { defaultParallelism: 1 },
      ),
    ).toThrow(/must return an action/);
    const asyncJob = defineJob((async (ctx: { parallelize: (a: number[]) => { count(): unknown } }) =>
      ctx.parallelize([1]).count()) as never);
    expect(() => buildJobGraph(asyncJob, undefined, { defaultParallelism: 1 })).toThrow(/synchronous/);
  });

  it('a dataset created after the builder returned is rejected', () => {
    let saved: { map(f: (x: number) => number): unknown } | undefined;
    const job = defineJob((ctx) => {
      const ds = ctx.parallelize([1]);
      saved = ds;
      return ds.count();
    });
    buildJobGraph(job, undefined, { defaultParallelism: 1 });
    expect(() => saved!.map((x) => x)).toThrow(/after the job builder returned/);
  });
});

describe('sorting into one partition', () => {
  it('needs no sampling job, as Spark skips sampling for a single range partition', () => {
    const job = defineJob((ctx) =>
      ctx
        .parallelize([3, 1, 2], 2)
        .sortBy((x) => x, true, 1)
        .collect(),
    );
    const p = planJob(buildJobGraph(job, undefined, { defaultParallelism: 4 }), 'result');
    expect(isSamplingRequest(p)).toBe(false);
  });
});
