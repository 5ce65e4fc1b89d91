/**
 * Issue 13's actions on real executors (Azurite, executor host processes): one run of
 * jobs/rdd-actions.ts — hidden jobs (histogram's range, zipWithIndex's and takeSample's counts),
 * lookup computing one partition, treeAggregate's level stage — against plain JS.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatCounter } from '../../engine/dataset/stat-counter.js';
import { compareKeys } from '../../engine/records/keys.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import type { RddActionsParams } from './jobs/rdd-actions.js';

const JOB = path.resolve(import.meta.dirname, 'jobs/rdd-actions.ts');

let e2e: E2EFabric;

beforeAll(async () => {
  e2e = await startE2E({ label: 'rdd-actions' });
});

afterAll(async () => {
  await e2e?.close();
});

describe('RDD actions on executors', () => {
  it('stats, histogram, top, zipWithIndex, lookup, collectAsMap, treeAggregate, takeSample and foreach equal plain JS', async () => {
    // 9 slices for 16 numbers: empty partitions included, and enough for treeAggregate's level.
    const numbers = [7, -3, 12, 0, 5, 5, -9, 20, 1, 3, -1, 8, 14, -6, 2, 9];
    const pairs: [string, number][] = [
      ['a', 1],
      ['b', 4],
      ['a', 2],
      ['c', -3],
      ['b', 1],
      ['a', 10],
    ];
    const params: RddActionsParams = { numbers, pairs, slices: 9, partitions: 3 };
    e2e.events.clear();
    const report = await e2e.driver.runWithReport(JOB, params);
    const r = report.results as Record<string, unknown>;

    const stats = r.stats as StatCounter;
    const mean = numbers.reduce((a, b) => a + b, 0) / numbers.length;
    expect(stats.count).toBe(numbers.length);
    expect(stats.mean).toBeCloseTo(mean, 10);
    expect(stats.stdev).toBeCloseTo(
      Math.sqrt(numbers.reduce((s, x) => s + (x - mean) ** 2, 0) / numbers.length),
      10,
    );
    expect([stats.max, stats.min]).toEqual([20, -9]);
    // Range [-9, 20] in 3 buckets: [-9, 0.667), [0.667, 10.333), [10.333, 20].
    expect(r.histogram).toEqual([
      [-9, -9 + 29 / 3, -9 + 58 / 3, 20],
      [5, 8, 3],
    ]);
    expect(r.buckets).toEqual([4, 9]);
    expect(r.top).toEqual([20, 14, 12]);
    expect(r.smallestPairs).toEqual([
      ['c', -3],
      ['a', 1],
    ]);
    expect(r.indexed).toEqual(numbers.map((x, i) => [x, i]));
    const ids = r.uniqueIds as number[];
    expect(new Set(ids).size).toBe(numbers.length);
    expect(r.lookup).toEqual([13]);
    expect([...(r.asMap as Map<string, number>)]).toEqual([...new Map(pairs)]);
    expect(r.counts).toEqual([
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ]);
    expect(r.treeSum).toBe(numbers.reduce((a, b) => a + b, 0));
    const sample = r.sample as number[];
    expect(sample).toHaveLength(4);
    expect([...sample].sort(compareKeys).every((x) => numbers.includes(x))).toBe(true);
    expect(r.foreach).toBeUndefined();
    expect(report.accumulators.seen).toBe(numbers.length);

    // Hidden jobs ran as real jobs, each before the job that needed it.
    const jobs = e2e.events.of('job-start').map((j) => [j.action, j.hidden]);
    expect(jobs.filter(([, hidden]) => hidden).map(([action]) => action)).toEqual([
      'histogramRange',
      'countPartitions',
      'countPartitions',
    ]);
    const stages = e2e.events.of('stage-submitted');
    const lookupJob = e2e.events.of('job-start').find((j) => j.action === 'lookup')!;
    const lookupResult = stages.find((s) => s.jobId === lookupJob.jobId && s.kind === 'result')!;
    expect(lookupResult.numTasks).toBe(1);
    const treeJob = e2e.events.of('job-start').find((j) => j.action === 'treeAggregate')!;
    expect(treeJob.stages!.map((s) => [s.kind, s.numPartitions])).toEqual([
      ['shuffle-map', 9],
      ['result', 3],
    ]);
  });
});
