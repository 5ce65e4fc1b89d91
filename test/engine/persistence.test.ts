/**
 * persist(level), cache(), unpersist() and checkpoint() through the in-memory runner, against
 * plain JS, across partition counts (more slices than records: empty partitions). An
 * accumulator counts how often the persisted dataset's map function ran, so the tests see
 * whether a later job read the stored partitions or recomputed them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { describePlan } from '../../engine/plan/explain.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import type { StorageLevel } from '../../engine/plan/persistence.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { bag, intsArb, jobRuns, partitionsArb } from './run-helpers.js';

const LEVELS: StorageLevel[] = ['memory', 'disk', 'blob'];

/** `data` doubled by a counted map, persisted at `level`, then three actions. */
const persisted = defineJob((ctx, p: { data: number[]; slices: number; level: StorageLevel }) => {
  const calls = ctx.accumulator('calls', 0);
  const doubled = ctx
    .parallelize(p.data, p.slices)
    .map((v) => {
      calls.add(1);
      return v * 2;
    })
    .persist(p.level);
  return {
    all: doubled.collect(),
    count: doubled.count(),
    sum: doubled.fold(0, (a, b) => a + b),
  };
});

/** The same, with `unpersist` between the second and third action. */
const released = defineJob((ctx, p: { data: number[]; slices: number; level: StorageLevel }) => {
  const calls = ctx.accumulator('calls', 0);
  const doubled = ctx
    .parallelize(p.data, p.slices)
    .map((v) => {
      calls.add(1);
      return v * 2;
    })
    .persist(p.level);
  return {
    first: doubled.count(),
    second: doubled.collect(),
    free: doubled.unpersist(),
    third: doubled.collect(),
    fourth: doubled.count(),
  };
});

describe('persist', () => {
  for (const level of LEVELS) {
    it(`persist('${level}') gives plain JS's results and computes each record once across three jobs`, async () => {
      await fc.assert(
        fc.asyncProperty(intsArb, partitionsArb, async (data, slices) => {
          const run = await runJobInMemory(persisted, { data, slices, level });
          const doubled = data.map((v) => v * 2);
          expect(run.results).toEqual({
            all: doubled,
            count: data.length,
            sum: doubled.reduce((a, b) => a + b, 0),
          });
          expect(run.accumulators.calls).toBe(data.length);
        }),
        jobRuns,
      );
    });
  }

  it("persist('blob') and cache() read the blobs in later jobs: the stages that produced them are listed above the cache and never run", async () => {
    const job = defineJob((ctx, p: { level?: StorageLevel }) => {
      const sums = ctx
        .parallelize(
          Array.from({ length: 40 }, (_, i) => [i % 5, i] as [number, number]),
          4,
        )
        .reduceByKey((a, b) => a + b, 3);
      const kept = p.level ? sums.persist(p.level) : sums.cache();
      return { keys: kept.keys().collect(), total: kept.values().fold(0, (a, b) => a + b) };
    });
    for (const params of [{ level: 'blob' as const }, {}]) {
      const run = await runJobInMemory(job, params);
      expect(bag(run.results.keys)).toEqual([0, 1, 2, 3, 4]);
      expect(run.results.total).toBe(780);
      const second = run.jobs[1]!.plan;
      expect(second.stages).toHaveLength(2);
      expect(second.stages[0]!.aboveCache).toBe(1);
      expect(run.jobs[1]!.stagesRun).toEqual([1]);
      expect(second.stages[1]!.parents).toEqual([0]);
      expect(second.stages[1]!.cacheReads).toEqual([1]);
      expect(describePlan(second)).toMatch(/reduceByKey at persistence\.test\.ts:\d+ \[cached\]/);
    }
  });

  it("persist('memory') keeps the lineage in later plans: its shuffle-map stage is skipped, the partitions read on the executor", async () => {
    const job = defineJob((ctx) => {
      const calls = ctx.accumulator('calls', 0);
      const sums = ctx
        .parallelize(
          Array.from({ length: 30 }, (_, i) => [i % 4, i] as [number, number]),
          3,
        )
        .reduceByKey((a, b) => a + b, 2)
        .mapValues((v) => {
          calls.add(1);
          return v;
        })
        .persist('memory');
      return { a: sums.count(), b: sums.collect() };
    });
    const run = await runJobInMemory(job, undefined);
    expect(run.results.a).toBe(4);
    const sums = new Map<number, number>();
    for (let i = 0; i < 30; i++) sums.set(i % 4, (sums.get(i % 4) ?? 0) + i);
    expect(bag(run.results.b)).toEqual(bag([...sums]));
    expect(run.accumulators.calls).toBe(4);
    const second = run.jobs[1]!;
    expect(second.stagesSkipped).toEqual([0]);
    expect(second.plan.stages[1]!.localPersists).toEqual([{ nodeId: 2, level: 'memory' }]);
    expect(describePlan(second.plan)).toContain('[persisted: memory]');
    expect(run.localReads).toEqual({ hits: 2, misses: 2 });
  });

  it('a task that lands on an executor without the partition recomputes it from its lineage', async () => {
    // Two partitions, three executors, tasks dealt round-robin: no task lands where its
    // partition was computed, as can happen on Functions when any instance takes any task.
    for (const level of ['memory', 'disk'] as const) {
      const run = await runJobInMemory(
        persisted,
        { data: [1, 2, 3, 4, 5], slices: 2, level },
        { executors: 3 },
      );
      expect(run.results).toEqual({ all: [2, 4, 6, 8, 10], count: 5, sum: 30 });
      // Tasks go to executors 0, 1 | 2, 0 | 1, 2: every job recomputes both partitions.
      expect(run.localReads).toEqual({ hits: 0, misses: 6 });
      expect(run.accumulators.calls).toBe(15);
    }
  });

  it('a storage level cannot change once set, and must be a level', () => {
    const twice = defineJob((ctx) => ctx.parallelize([1]).persist('memory').persist('blob').count());
    expect(() => buildJobGraph(twice, undefined, { defaultParallelism: 2 })).toThrow(
      expect.objectContaining({
        code: 'CONFIG',
        message: expect.stringContaining("already persisted at 'memory'"),
      }),
    );
    const same = defineJob((ctx) => ctx.parallelize([1]).persist('blob').cache().count());
    expect(() => buildJobGraph(same, undefined, { defaultParallelism: 2 })).not.toThrow();
    const bad = defineJob((ctx) =>
      ctx
        .parallelize([1])
        .persist('ram' as StorageLevel)
        .count(),
    );
    expect(() => buildJobGraph(bad, undefined, { defaultParallelism: 2 })).toThrow(
      expect.objectContaining({
        code: 'CONFIG',
        message: expect.stringContaining("'memory', 'disk', 'blob'"),
      }),
    );
  });
});

describe('unpersist', () => {
  for (const level of LEVELS) {
    it(`unpersist releases '${level}' partitions: later jobs recompute, and do not persist again`, async () => {
      await fc.assert(
        fc.asyncProperty(intsArb, partitionsArb, async (data, slices) => {
          const run = await runJobInMemory(released, { data, slices, level });
          const doubled = data.map((v) => v * 2);
          expect(run.results).toEqual({
            first: data.length,
            second: doubled,
            // Something was stored when the dataset had a partition at all.
            free: true,
            third: doubled,
            fourth: data.length,
          });
          // Computed by the first job, then by each job after the unpersist.
          expect(run.accumulators.calls).toBe(3 * data.length);
          // unpersist is not a job: four jobs for five entries.
          expect(run.jobs).toHaveLength(4);
          const after = run.jobs[2]!.plan.stages[0]!;
          expect(after.cacheReads).toEqual([]);
          expect(after.cacheWrites).toEqual([]);
          expect(after.localPersists).toBeUndefined();
          expect(after.releasedNodes).toEqual([1]);
        }),
        { numRuns: 10 },
      );
    });
  }

  it('unpersist of a dataset that was never persisted releases nothing', async () => {
    const job = defineJob((ctx) => {
      const ds = ctx.parallelize([1, 2, 3], 2);
      return { free: ds.unpersist(), n: ds.count() };
    });
    const run = await runJobInMemory(job, undefined);
    expect(run.results).toEqual({ free: false, n: 3 });
  });
});

describe('checkpoint', () => {
  /** An iterative builder: each round re-keys and sums; round `at` is checkpointed and counted. */
  const iterative = defineJob((ctx, p: { data: number[]; slices: number; rounds: number; at: number }) => {
    const calls = ctx.accumulator('calls', 0);
    let ds = ctx.parallelize(p.data, p.slices).map((v) => {
      calls.add(1);
      return v;
    });
    let mid: ReturnType<typeof ds.count> | undefined;
    for (let round = 1; round <= p.rounds; round++) {
      ds = ds
        .map((v) => [Math.abs(v) % 3, v + round] as [number, number])
        .reduceByKey((a, b) => a + b, 2)
        .values();
      if (round === p.at) {
        ds.checkpoint();
        mid = ds.count();
      }
    }
    return { mid: mid!, final: ds.collect(), again: ds.fold(0, (a, b) => a + b) };
  });

  /** Plain JS of the iterative builder: the sums of every round, in any order. */
  function reference(data: number[], rounds: number): number[][] {
    const perRound: number[][] = [];
    let values = data;
    for (let round = 1; round <= rounds; round++) {
      const sums = new Map<number, number>();
      for (const v of values) sums.set(Math.abs(v) % 3, (sums.get(Math.abs(v) % 3) ?? 0) + v + round);
      values = [...sums.values()];
      perRound.push(values);
    }
    return perRound;
  }

  it('the next job saves the checkpoint; later jobs read it with no parent stages, and compute each record once', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, async (data, slices) => {
        const run = await runJobInMemory(iterative, { data, slices, rounds: 4, at: 2 });
        const ref = reference(data, 4);
        expect(run.results.mid).toBe(ref[1]!.length);
        expect(bag(run.results.final)).toEqual(bag(ref[3]!));
        expect(run.results.again).toBe(ref[3]!.reduce((a, b) => a + b, 0));
        expect(run.accumulators.calls).toBe(data.length);
        for (const job of run.jobs.slice(1)) {
          const first = job.plan.stages[0]!;
          expect(first.parents).toEqual([]);
          expect(first.cacheReads).toHaveLength(1);
          expect(first.checkpoints).toEqual(first.cacheReads);
          // Nothing upstream of the checkpoint is in any stage: the lineage is truncated.
          const checkpoint = first.cacheReads[0]!;
          for (const stage of job.plan.stages)
            expect(Math.min(...stage.pipeline)).toBeGreaterThanOrEqual(checkpoint);
        }
      }),
      { numRuns: 15 },
    );
  });

  it('explain names the checkpoint where it is written and where it is read', async () => {
    const run = await runJobInMemory(iterative, { data: [1, 2, 3, 4, 5, 6], slices: 3, rounds: 3, at: 1 });
    expect(describePlan(run.jobs[0]!.plan)).toMatch(
      /checkpoints values at persistence\.test\.ts:\d+ \(later jobs read it; lineage truncated\)/,
    );
    const later = describePlan(run.jobs[1]!.plan);
    expect(later).toMatch(/values at persistence\.test\.ts:\d+ \[checkpoint\]/);
    expect(later).toContain('(lineage truncated)');
  });

  it('unpersist does not release a checkpoint', async () => {
    const job = defineJob((ctx) => {
      const calls = ctx.accumulator('calls', 0);
      const ds = ctx
        .parallelize([1, 2, 3, 4], 3)
        .map((v) => {
          calls.add(1);
          return v;
        })
        .checkpoint();
      return { a: ds.count(), free: ds.unpersist(), b: ds.collect() };
    });
    const run = await runJobInMemory(job, undefined);
    expect(run.results).toEqual({ a: 4, free: false, b: [1, 2, 3, 4] });
    expect(run.accumulators.calls).toBe(4);
    expect(run.jobs[1]!.plan.stages[0]!.checkpoints).toEqual([1]);
  });
});
