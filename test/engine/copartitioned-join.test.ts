/**
 * Co-partitioned joins (Spark's CoGroupedRDD with a one-to-one dependency): a side already
 * hash-partitioned into the join's partition count is read in place, only the other side is
 * shuffled; and a dataset read from a handle keeps the partitioner its handle records.
 */
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { DATASET_HANDLE_KIND, type DatasetHandleData } from '../../engine/plan/handle-data.js';
import { isSamplingRequest, type JobPlan, planJob } from '../../engine/plan/stages.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { bag } from './run-helpers.js';

function plan(result: ReturnType<typeof planJob>): JobPlan {
  if (isSamplingRequest(result)) throw new Error('unexpected sampling request');
  return result;
}

const left: [number, string][] = Array.from({ length: 60 }, (_, i) => [i % 17, `l${i}`]);
const right: [number, number][] = Array.from({ length: 45 }, (_, i) => [(i * 7) % 23, i]);

/** The plain-JS inner join. */
function joinRef<V, W>(a: [number, V][], b: [number, W][]): [number, [V, W]][] {
  const out: [number, [V, W]][] = [];
  for (const [k, v] of a) for (const [k2, w] of b) if (k === k2) out.push([k, [v, w]]);
  return out;
}

const partitionedJoin = defineJob((ctx, p: { n: number; joinN?: number }) => {
  const links = ctx.parallelize(left, 3).partitionBy(p.n);
  const other = ctx.parallelize(right, 2);
  return links.join(other, p.joinN).collect();
});

describe('co-partitioned joins', () => {
  it('a side partitioned as the join is read in place: one shuffle, for the other side only', async () => {
    const graph = buildJobGraph(partitionedJoin, { n: 4, joinN: 4 }, { defaultParallelism: 2 });
    const p = plan(planJob(graph, 'result'));
    // partitionBy's shuffle + the other side's shuffle; none for the partitioned side into the join.
    const writes = p.stages.filter((s) => s.kind === 'shuffle-map').map((s) => graph.node(s.rddNodeId).op);
    expect(writes.sort()).toEqual(['parallelize', 'parallelize']);
    const result = p.stages.at(-1)!;
    expect(result.shuffleReads).toHaveLength(2);
    expect(result.pipeline.map((id) => graph.node(id).op)).toContain('partitionBy');
    const { results } = await runJobInMemory(partitionedJoin, { n: 4, joinN: 4 });
    expect(bag(results as unknown[])).toEqual(bag(joinRef(left, right)));
  });

  it("without a partition count the join takes the partitioned side's partitioner (Spark's defaultPartitioner)", async () => {
    const graph = buildJobGraph(partitionedJoin, { n: 5 }, { defaultParallelism: 2 });
    const p = plan(planJob(graph, 'result'));
    expect(p.stages.at(-1)!.numPartitions).toBe(5);
    expect(p.stages.filter((s) => s.kind === 'shuffle-map')).toHaveLength(2);
    const { results } = await runJobInMemory(partitionedJoin, { n: 5 });
    expect(bag(results as unknown[])).toEqual(bag(joinRef(left, right)));
  });

  it('a different partition count shuffles both sides, and gives the same join', async () => {
    const graph = buildJobGraph(partitionedJoin, { n: 4, joinN: 3 }, { defaultParallelism: 2 });
    const p = plan(planJob(graph, 'result'));
    expect(p.stages.filter((s) => s.kind === 'shuffle-map')).toHaveLength(3);
    const { results } = await runJobInMemory(partitionedJoin, { n: 4, joinN: 3 });
    expect(bag(results as unknown[])).toEqual(bag(joinRef(left, right)));
  });

  it('two sides partitioned alike join with no shuffle into the join at all', async () => {
    const job = defineJob((ctx) => {
      // biome-ignore lint/complexity/useMathMinMax: the values are strings
      const a = ctx.parallelize(left, 3).reduceByKey((x, y) => (x < y ? x : y), 4);
      const b = ctx
        .parallelize(right, 2)
        .mapValues((v) => v * 2)
        .partitionBy(4)
        .mapValues((v) => v + 1);
      return a.join(b).collect();
    });
    const graph = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    const p = plan(planJob(graph, 'result'));
    expect(p.stages).toHaveLength(3);
    const min = new Map<number, string>();
    for (const [k, v] of left) if (!min.has(k) || v < min.get(k)!) min.set(k, v);
    const expected = joinRef(
      [...min],
      right.map(([k, v]) => [k, v * 2 + 1] as [number, number]),
    );
    const { results } = await runJobInMemory(job, undefined);
    expect(bag(results as unknown[])).toEqual(bag(expected));
  });
});

describe('handle sources in the plan', () => {
  const handle = (hashPartitions: number | null, parts: number): DatasetHandleData => ({
    kind: DATASET_HANDLE_KIND,
    appId: 'app-x',
    id: 'app-x/run-0/node-3',
    blobs: Array.from({ length: parts }, (_, i) => `apps/app-x/run-0/checkpoint/3/part-${i}-a.bin`),
    hashPartitions,
    records: 10,
  });
  const reader = defineJob((ctx, p: { h: DatasetHandleData; n: number }) =>
    ctx.fromHandle<[number, number]>(p.h).join(ctx.parallelize(right, 2), p.n).count(),
  );

  it('is read from its blobs, never computed, and keeps its hash partitioner', () => {
    const graph = buildJobGraph(reader, { h: handle(4, 4), n: 4 }, { defaultParallelism: 2 });
    const p = plan(planJob(graph, 'result'));
    expect(p.stages).toHaveLength(2);
    const result = p.stages.at(-1)!;
    expect(result.cacheReads).toEqual([0]);
    expect(result.nodePartitions[0]).toBe(4);
  });

  it('without a partitioner it is shuffled like any dataset', () => {
    const graph = buildJobGraph(reader, { h: handle(null, 3), n: 4 }, { defaultParallelism: 2 });
    const p = plan(planJob(graph, 'result'));
    expect(p.stages).toHaveLength(3);
    expect(p.stages.find((s) => s.rddNodeId === 0)?.cacheReads).toEqual([0]);
  });

  it('refuses what is not a handle, naming the call', () => {
    const bad = { ...handle(4, 4), kind: 'something-else' } as unknown as DatasetHandleData;
    expect(() => buildJobGraph(reader, { h: bad, n: 4 }, { defaultParallelism: 2 })).toThrow(
      /fromHandle: expected a dataset handle/,
    );
    expect(() => buildJobGraph(reader, { h: handle(3, 4), n: 4 }, { defaultParallelism: 2 })).toThrow(
      /its partitioner has 3 partitions but it lists 4 blobs/,
    );
  });
});
