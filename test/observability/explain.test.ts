/**
 * `stratus explain` on small job modules: jobs (hidden sampling jobs included), stages with
 * their partitions, shuffle boundaries, skipped stages and waves — without running a task.
 * (run-observed.test.ts checks these predictions against real runs.)
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainModule, formatExplanation } from '../../driver/observe/explain.js';
import { explainJson } from '../helpers/explain-cli.js';

const JOBS = path.resolve(import.meta.dirname, 'fixtures/jobs');
const DATA = path.resolve(import.meta.dirname, 'fixtures/data');

describe('stratus explain', () => {
  it('a shuffle makes two stages; waves are ⌈partitions / slots⌉', async () => {
    const e = await explainModule(path.join(JOBS, 'pair-sums.ts'), {}, { slots: 4 });
    expect(e.jobs).toHaveLength(1);
    const [map, result] = e.jobs[0]!.stages;
    expect(map).toMatchObject({
      stageId: 0,
      kind: 'shuffle-map',
      partitions: 6,
      waves: 2,
      shuffleWrite: { shuffleId: 0, reducePartitions: 3, partitioner: 'hash' },
    });
    expect(result).toMatchObject({
      stageId: 1,
      kind: 'result',
      partitions: 3,
      waves: 1,
      parentStageIds: [0],
      shuffleReads: [{ shuffleId: 0, mapPartitions: 6 }],
    });
    expect(e.totals).toEqual({ jobs: 1, hiddenJobs: 0, stages: 2, stagesSkipped: 0, tasks: 9, waves: 3 });
    const one = await explainModule(path.join(JOBS, 'pair-sums.ts'), {}, { slots: 1 });
    expect(one.totals.waves).toBe(9);
  });

  it('a sort adds a hidden sampling job, and later jobs skip the shuffles earlier jobs wrote', async () => {
    const e = await explainModule(path.join(JOBS, 'sorted-counts.ts'), { partitions: 5 }, { slots: 2 });
    expect(e.jobs.map((j) => [j.action, j.actionName, j.hidden])).toEqual([
      ['sampleSortKeys', 'top', true],
      ['take', 'top', false],
      ['count', 'distinct', false],
      ['count', 'total', false],
    ]);
    expect(e.jobs.map((j) => j.stages.map((s) => (s.skipped ? 'skipped' : s.partitions)))).toEqual([
      [4, 3],
      ['skipped', 3, 5],
      ['skipped', 3],
      ['skipped', 'skipped', 5],
    ]);
    expect(e.jobs[1]!.stages[1]!.shuffleWrite).toMatchObject({ partitioner: 'range', reducePartitions: 5 });
    expect(e.totals).toMatchObject({ jobs: 4, hiddenJobs: 1, stages: 10, stagesSkipped: 4 });
    expect(formatExplanation(e)).toContain(
      '[hidden: sampling for the sort at node 4 (5 range partitions) of "top"]',
    );
  });

  it('file sources are split as the driver would, and a cached dataset is read, not recomputed', async () => {
    const e = await explainModule(
      path.join(JOBS, 'cached-words.ts'),
      { input: path.join(DATA, '*.txt') },
      { slots: 4 },
    );
    expect(e.sources).toEqual([expect.objectContaining({ nodeId: 0, files: 3, partitions: 3 })]);
    expect(e.jobs[0]!.stages[0]!.cacheWrites).toEqual([2]);
    expect(e.jobs[1]!.stages[0]).toMatchObject({ cacheReads: [2], partitions: 3 });
    expect(e.jobs[1]!.stages[0]!.name).not.toContain('textFile');
  });

  it('prints JSON from the command line with --json, planned for --executors × --slots as stratus run', async () => {
    const e = await explainJson<{ slots: number; totals: Record<string, number> }>([
      path.join(JOBS, 'pair-sums.ts'),
      '--param',
      'n=30',
      '--executors',
      '1',
      '--slots',
      '3',
      '--local',
    ]);
    expect(e.slots).toBe(3);
    expect(e.totals).toMatchObject({ jobs: 1, stages: 2, tasks: 9, waves: 3 });
  });
});

describe('stratus explain of the Dataset ⇄ DataFrame bridge', () => {
  it('shows toDF and rdd() as direct exchanges that keep the partitions of the side they leave', async () => {
    const e = await explainModule(path.join(JOBS, 'bridge.ts'), {}, { slots: 2 });
    expect(e.jobs).toHaveLength(1);
    const stages = e.jobs[0]!.stages;
    // parallelize → toDF | DuckDB: partial aggregate | final aggregate | rdd → map → collect.
    expect(stages.map((s) => s.shuffleWrite?.partitioner ?? 'result')).toEqual([
      'direct',
      'hash',
      'direct',
      'result',
    ]);
    // toDF keeps parallelize's 4 slices; rdd() keeps the aggregation's shuffle partitions (the slots).
    expect(stages[0]).toMatchObject({ partitions: 4, shuffleWrite: { reducePartitions: 4 } });
    expect(stages[1]).toMatchObject({ partitions: 4 });
    expect(stages[2]).toMatchObject({ partitions: 2, shuffleWrite: { reducePartitions: 2 } });
    expect(stages[3]).toMatchObject({ partitions: 2 });
    const text = formatExplanation(e);
    expect(text).toContain('direct: the Dataset ⇄ DataFrame bridge, each partition to its own index');
    expect(text).toMatch(/toDF at bridge\.ts:\d+/);
    expect(text).toMatch(/rdd at bridge\.ts:\d+/);
  });
});
