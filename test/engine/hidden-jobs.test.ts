/**
 * zipWithIndex and zipWithUniqueId against plain JS, and the hidden jobs of issue 13 as a user
 * sees them: run as jobs before the job that needs them (zipWithIndex only with more than one
 * partition, as Spark), kept for later jobs of the run, named by call site, and listed by
 * `stratus explain`'s planner with the partitions each result stage computes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainGraph, formatExplanation } from '../../driver/observe/explain.js';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { intsArb, jobRuns, partitionsArb, runAction } from './run-helpers.js';

describe('zipWithIndex and zipWithUniqueId', () => {
  it('zipWithIndex pairs each record with its position in the dataset, across empty partitions', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, n) => {
        const run = await runJobInMemory(
          defineJob((ctx) => ctx.parallelize(data, n).zipWithIndex().collect()),
          undefined,
        );
        expect(run.results).toEqual(data.map((x, i) => [x, i]));
        // Spark runs the counting job only with more than one partition.
        expect(run.jobs.map((j) => j.plan.actionOp)).toEqual(
          n > 1 ? ['countPartitions', 'collect'] : ['collect'],
        );
        if (n > 1) expect(run.jobs[0]!.plan.stages[0]!.partitions).toHaveLength(n - 1);
      }),
      jobRuns,
    );
  });

  it('zipWithIndex after a shuffle indexes the shuffled order, and later jobs reuse the counts', async () => {
    const job = defineJob((ctx) => {
      const indexed = ctx
        .parallelize(['b', 'a', 'c', 'a', 'd'], 3)
        .sortBy((w) => w, true, 2)
        .zipWithIndex();
      return { all: indexed.collect(), evens: indexed.filter(([, i]) => i % 2 === 0).count() };
    });
    const run = await runJobInMemory(job, undefined);
    expect(run.results).toEqual({
      all: [
        ['a', 0],
        ['a', 1],
        ['b', 2],
        ['c', 3],
        ['d', 4],
      ],
      evens: 3,
    });
    expect(run.jobs.map((j) => j.plan.actionOp)).toEqual([
      'sampleSortKeys',
      'countPartitions',
      'collect',
      'count',
    ]);
  });

  it('zipWithUniqueId gives the k-th record of partition p of n the id k·n + p, without a job', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, n) => {
        const run = await runJobInMemory(
          defineJob((ctx) => ctx.parallelize(data, n).zipWithUniqueId().collect()),
          undefined,
        );
        const expected: [number, number][] = [];
        for (let p = 0; p < n; p++) {
          const slice = data.slice(
            Math.floor((p * data.length) / n),
            Math.floor(((p + 1) * data.length) / n),
          );
          slice.forEach((x, k) => {
            expected.push([x, k * n + p]);
          });
        }
        expect(run.results).toEqual(expected);
        expect(run.jobs).toHaveLength(1);
      }),
      jobRuns,
    );
  });

  it('the same hidden job asked for twice (two takeSample of one dataset) runs once', async () => {
    const run = await runJobInMemory(
      defineJob((ctx) => {
        const ds = ctx.parallelize([1, 2, 3, 4, 5, 6], 3);
        return { a: ds.takeSample(false, 2, 1), b: ds.takeSample(true, 4, 2) };
      }),
      undefined,
    );
    expect(run.jobs.map((j) => j.plan.actionOp)).toEqual(['countPartitions', 'takeSample', 'takeSample']);
    expect(run.results.a).toHaveLength(2);
    expect(run.results.b).toHaveLength(4);
  });

  it('an action reading zipWithIndex that a hidden job of its own scans runs both, in order', async () => {
    const got = await runAction((ctx) =>
      ctx
        .parallelize([5, 6, 7, 8], 2)
        .zipWithIndex()
        .map(([x, i]) => x * i)
        .histogram(2),
    );
    expect(got).toEqual([
      [0, 12, 24],
      [2, 2],
    ]);
  });
});

describe('hidden jobs in stratus explain', () => {
  it('explain lists each hidden job with its reason and call site, and a lookup that computes one partition', () => {
    const job = defineJob((ctx) => {
      const ds = ctx.parallelize([3, 1, 2, 5], 4);
      const sums = ds.map((x) => [x % 2, x] as [number, number]).reduceByKey((a, b) => a + b, 4);
      return {
        indexed: ds.zipWithIndex().count(),
        histogram: ds.histogram(2),
        odd: sums.lookup(1),
      };
    });
    const graph = buildJobGraph(job, undefined, { defaultParallelism: 4 });
    const e = explainGraph(graph, { slots: 2, sourcePartitions: new Map() });
    expect(e.jobs.map((j) => [j.action, j.actionName, j.hidden, j.tasks])).toEqual([
      ['countPartitions', 'indexed', true, 3],
      ['count', 'indexed', false, 4],
      ['histogramRange', 'histogram', true, 4],
      ['histogram', 'histogram', false, 4],
      ['lookup', 'odd', false, 5],
    ]);
    expect(e.jobs[0]!.reason).toMatch(
      /^counting the records of each partition for zipWithIndex at hidden-jobs\.test\.ts:\d+ of "indexed"$/,
    );
    expect(e.jobs[2]!.reason).toBe('finding the range of the values for histogram of "histogram"');
    const lookup = e.jobs[4]!.stages[1]!;
    expect(lookup).toMatchObject({ kind: 'result', partitions: 4, waves: 1 });
    expect(lookup.computedPartitions).toHaveLength(1);
    expect(formatExplanation(e)).toMatch(
      /Stage 5 \(result, 4 partitions, computing partition \d only, 1 wave/,
    );
    expect(e.totals).toMatchObject({ jobs: 5, hiddenJobs: 2 });
  });
});
