/**
 * The run summary against a hand-computed reference: a synthetic application of 2 jobs (one
 * hidden), 5 stages (one skipped), 7 tasks and 10 attempts — a failure, a speculative copy
 * whose late success is ignored, and an attempt lost with its executor.
 */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../driver/observe/run-events.js';
import {
  DEFAULT_COST_RATES,
  formatRunSummary,
  quantiles,
  RunSummaryBuilder,
} from '../../driver/observe/run-summary.js';

const appId = 'app-synthetic-1';
const metrics = (durationMs: number) => ({
  durationMs,
  recordsRead: 10,
  recordsWritten: 5,
  bytesRead: 100,
  bytesWritten: 50,
  shuffleReadBytes: 7,
  shuffleWriteBytes: 3,
  peakMemoryBytes: 1000,
  spillCount: 0,
});

type Attempt = [
  stage: number,
  job: number,
  partition: number,
  attempt: number,
  executor: string,
  slot: number,
  start: number,
  end: number,
  status: 'succeeded' | 'failed' | 'ignored' | 'lost',
  speculative?: boolean,
];

function attemptEvents([
  stageId,
  jobId,
  partition,
  attempt,
  executorId,
  slot,
  start,
  end,
  status,
  speculative = false,
]: Attempt): RunEvent[] {
  const base = {
    appId,
    jobId,
    stageId,
    partition,
    attempt,
    executorId,
    slot,
    launchedAt: start - 10,
    speculative,
  };
  return [
    { ...base, type: 'task-start', at: start },
    {
      ...base,
      type: 'task-end',
      at: end,
      startedAt: start,
      status,
      ...(status === 'succeeded' || status === 'ignored' ? { metrics: metrics(end - start) } : {}),
      ...(status === 'failed' ? { error: { name: 'Error', message: 'boom' } } : {}),
    },
  ];
}

const stage = (
  stageId: number,
  jobId: number,
  numTasks: number,
  parentStageIds: number[],
  at: number,
): RunEvent => ({
  type: 'stage-submitted',
  at,
  appId,
  jobId,
  stageId,
  kind: parentStageIds.length === 0 || stageId === 3 ? 'shuffle-map' : 'result',
  name: `stage ${stageId} ops`,
  numTasks,
  parentStageIds,
});
const done = (stageId: number, jobId: number, at: number): RunEvent => ({
  type: 'stage-completed',
  at,
  appId,
  jobId,
  stageId,
  status: 'succeeded',
});

const events: RunEvent[] = [
  {
    type: 'app-start',
    at: 1000,
    logVersion: 1,
    appId,
    name: 'synthetic.ts',
    mode: 'local',
    taskQueue: 'q',
    totalSlots: 4,
    executors: 2,
    slotsPerExecutor: 2,
    defaultParallelism: 4,
  },
  {
    type: 'job-start',
    at: 1050,
    appId,
    jobId: 0,
    action: 'sampleSortKeys',
    actionName: 'top',
    hidden: true,
    reason: 'sampling',
    stageIds: [0, 1],
    skippedStageIds: [],
  },
  stage(0, 0, 3, [], 1060),
  ...attemptEvents([0, 0, 0, 0, 'executor-1', 0, 1100, 1200, 'succeeded']),
  ...attemptEvents([0, 0, 1, 0, 'executor-1', 1, 1100, 1400, 'failed']),
  ...attemptEvents([0, 0, 1, 1, 'executor-2', 0, 1400, 1500, 'succeeded']),
  ...attemptEvents([0, 0, 2, 0, 'executor-2', 1, 1100, 1700, 'succeeded']),
  done(0, 0, 1700),
  stage(1, 0, 1, [0], 1750),
  ...attemptEvents([1, 0, 0, 0, 'executor-1', 0, 1800, 1900, 'succeeded']),
  ...attemptEvents([1, 0, 0, 1, 'executor-2', 1, 1810, 1950, 'ignored', true]),
  done(1, 0, 1950),
  { type: 'job-end', at: 1960, appId, jobId: 0, status: 'succeeded' },
  {
    type: 'job-start',
    at: 1970,
    appId,
    jobId: 1,
    action: 'take',
    actionName: 'top',
    hidden: false,
    stageIds: [2, 3, 4],
    skippedStageIds: [2],
    stages: [
      { stageId: 2, kind: 'shuffle-map', name: 'parallelize → map', numPartitions: 3, parentStageIds: [] },
      {
        stageId: 3,
        kind: 'shuffle-map',
        name: 'sortBy',
        numPartitions: 2,
        parentStageIds: [2],
        shuffleId: 1,
      },
      { stageId: 4, kind: 'result', name: 'take', numPartitions: 1, parentStageIds: [3] },
    ],
  },
  stage(3, 1, 2, [2], 1980),
  ...attemptEvents([3, 1, 0, 0, 'executor-1', 0, 2000, 2200, 'succeeded']),
  ...attemptEvents([3, 1, 1, 0, 'executor-2', 0, 2000, 2120, 'lost']),
  ...attemptEvents([3, 1, 1, 1, 'executor-2', 1, 2150, 2300, 'succeeded']),
  done(3, 1, 2300),
  stage(4, 1, 1, [3], 2350),
  ...attemptEvents([4, 1, 0, 0, 'executor-1', 1, 2400, 2450, 'succeeded']),
  done(4, 1, 2450),
  { type: 'job-end', at: 2460, appId, jobId: 1, status: 'succeeded' },
  { type: 'app-end', at: 2500, appId, status: 'succeeded' },
];

function build() {
  const builder = new RunSummaryBuilder({
    cost: { usdPerGbSecond: 0.00002, usdPerMillionExecutions: 0.5, instanceMemoryMb: 2048 },
  });
  for (const e of events) builder.onEvent(e);
  return builder;
}

describe('the run summary', () => {
  it('counts jobs, stages, tasks, attempts, executors and slots as computed by hand', () => {
    const s = build().summary();
    expect(s.status).toBe('succeeded');
    expect(s.wallTimeMs).toBe(1500);
    expect(s.totals).toEqual({
      jobs: 2,
      hiddenJobs: 1,
      stagesRun: 4,
      stagesSkipped: 1,
      tasks: 7,
      attempts: 10,
      succeeded: 7,
      failed: 1,
      ignored: 1,
      lost: 1,
      killed: 0,
      speculative: 1,
      executorsSeen: 2,
      slotsSeen: 4,
      recordsRead: 70,
      recordsWritten: 35,
      shuffleReadBytes: 49,
      shuffleWriteBytes: 21,
      // No task reported persisted partitions.
      cachedFromMemory: 0,
      cachedFromDisk: 0,
      cachedFromBlob: 0,
      cachedComputed: 0,
      // The events' metrics carry no spillBytes (an older log): read as 0.
      spillCount: 0,
      spillBytes: 0,
    });
    expect(
      s.jobs.map((j) => [j.jobId, j.hidden, j.stagesRun, j.skippedStageIds.length, j.tasks, j.durationMs]),
    ).toEqual([
      [0, true, 2, 0, 4, 910],
      [1, false, 2, 1, 3, 490],
    ]);
  });

  it("measures skew per stage as max / median of the winning attempts' times", () => {
    const s = build().summary();
    const s0 = s.stages.find((x) => x.stageId === 0)!;
    // winners 100, 100, 600 ms: Spark's quantile indices ⌊q·(n−1)⌋ → 100, 100, 100, 100, 600
    expect(s0.taskTime).toEqual({ min: 100, p25: 100, median: 100, p75: 100, max: 600 });
    expect(s0.skew).toBe(6);
    expect(s0.durationMs).toBe(640);
    expect(s.stages.find((x) => x.stageId === 2)).toMatchObject({ skipped: true, status: 'skipped' });
    expect(quantiles([4, 1, 3, 2])).toEqual({ min: 1, p25: 1, median: 2, p75: 3, max: 4 });
  });

  it('a skipped stage keeps the partitions, name and parents its job-start lists, and runs no task', () => {
    const s = build().summary();
    expect(s.stages.find((x) => x.stageId === 2)).toMatchObject({
      kind: 'shuffle-map',
      name: 'parallelize → map',
      partitions: 3,
      numTasks: 0,
      parentStageIds: [],
    });
    expect(s.stages.find((x) => x.stageId === 3)).toMatchObject({ partitions: 2, parentStageIds: [2] });
    // Tasks count what ran: the skipped stage's 3 partitions are not among job 1's 3 tasks.
    expect(s.jobs[1]!.tasks).toBe(3);
  });

  it('estimates the Flex Consumption cost from executor active time and executions', () => {
    const s = build().summary();
    // executor-1 busy 300 + 100 + 200 + 50 ms, executor-2 600 + 140 + 120 + 150 ms
    expect(s.executors.map((e) => [e.executorId, e.activeMs, e.slots])).toEqual([
      ['executor-1', 650, [0, 1]],
      ['executor-2', 1010, [0, 1]],
    ]);
    expect(s.cost.activeInstanceSeconds).toBeCloseTo(1.66, 10);
    expect(s.cost.gbSeconds).toBeCloseTo(3.32, 10);
    expect(s.cost.executions).toBe(10);
    expect(s.cost.totalUsd).toBeCloseTo(3.32 * 0.00002 + 10 * 0.5e-6, 12);
  });

  it("prices executor time at the instance memory the application's app-start recorded, unless options say otherwise", () => {
    const withMemory = events.map((e) => (e.type === 'app-start' ? { ...e, instanceMemoryMb: 4096 } : e));
    const fromLog = new RunSummaryBuilder();
    for (const e of withMemory) fromLog.onEvent(e);
    expect(fromLog.summary().cost.rates.instanceMemoryMb).toBe(4096);
    expect(fromLog.summary().cost.gbSeconds).toBeCloseTo(1.66 * 4, 10);
    const overridden = new RunSummaryBuilder({ cost: { instanceMemoryMb: 512 } });
    for (const e of withMemory) overridden.onEvent(e);
    expect(overridden.summary().cost.gbSeconds).toBeCloseTo(1.66 / 2, 10);
  });

  it('takes cost rates from the environment when options do not set them', () => {
    process.env.STRATUS_COST_USD_PER_GB_SECOND = '0.001';
    try {
      const builder = new RunSummaryBuilder();
      expect(builder.summary().cost.rates).toEqual({ ...DEFAULT_COST_RATES, usdPerGbSecond: 0.001 });
    } finally {
      delete process.env.STRATUS_COST_USD_PER_GB_SECOND;
    }
  });

  it("sums the spills of a stage's winning attempts (an ignored attempt's do not count) and prints them", () => {
    const spilled: Record<string, { spillCount: number; spillBytes: number }> = {
      // stage/partition/attempt/status → the spill that attempt reports
      '3/0/0/succeeded': { spillCount: 2, spillBytes: 3 * 1024 * 1024 },
      '3/1/1/succeeded': { spillCount: 1, spillBytes: 1024 * 1024 },
    };
    const builder = new RunSummaryBuilder();
    let ignoredWithSpill = 0;
    for (const e of events) {
      if (e.type !== 'task-end' || !e.metrics) {
        builder.onEvent(e);
        continue;
      }
      const own = spilled[`${e.stageId}/${e.partition}/${e.attempt}/${e.status}`];
      // Every ignored attempt spilled too: a duplicate's figures must not be added.
      const extra = own ?? (e.status === 'ignored' ? { spillCount: 5, spillBytes: 999 } : undefined);
      if (e.status === 'ignored') ignoredWithSpill++;
      builder.onEvent(extra ? { ...e, metrics: { ...e.metrics, ...extra } } : e);
    }
    expect(ignoredWithSpill).toBe(1);
    const s = builder.summary();
    const want = Object.values(spilled);
    expect(s.totals.spillCount).toBe(want.reduce((n, x) => n + x.spillCount, 0));
    expect(s.totals.spillBytes).toBe(want.reduce((n, x) => n + x.spillBytes, 0));
    const stage3 = s.stages.find((x) => x.stageId === 3)!;
    expect([stage3.spillCount, stage3.spillBytes]).toEqual([3, 4 * 1024 * 1024]);
    const text = formatRunSummary(s);
    expect(text).toMatch(/stage 3 shuffle-map: .*spilled 4(\.0)? MiB in 3 spills/);
    expect(text).toMatch(/data: .*; spilled 4(\.0)? MiB in 3 spills/);
  });

  it('prints the hidden job, the skipped stage and the attempt outcomes', () => {
    const text = formatRunSummary(build().summary());
    expect(text).toContain('jobs:      2 (1 hidden)');
    expect(text).toContain('job 0 sampleSortKeys "top" [hidden: sampling]');
    expect(text).toContain(
      'stage 2 shuffle-map: 3 partitions, skipped (its shuffle output exists) — parallelize → map',
    );
    expect(text).toContain('10: 7 succeeded, 1 failed, 1 ignored, 1 lost, 0 killed; 1 speculative');
    expect(text).toContain('skew 6.0×');
    expect(text).toContain('4 slots planned (2 executors × 2), 2 executors and 4 slots seen running tasks');
  });

  it('says why a failed application and its failed job ended, from their job-end and app-end', () => {
    const error = { name: 'JobFailedError', message: 'job 1 aborted: stage 3, partition 1 failed 4 times' };
    const failed = events.map((e): RunEvent => {
      if (e.type === 'job-end' && e.jobId === 1) return { ...e, status: 'failed', error };
      if (e.type === 'app-end')
        return { ...e, status: 'failed', error: { ...error, stack: 'at map (sales.ts:8:3)' } };
      return e;
    });
    const builder = new RunSummaryBuilder();
    for (const e of failed) builder.onEvent(e);
    const s = builder.summary();
    expect([s.error, s.errorStack]).toEqual([`JobFailedError: ${error.message}`, 'at map (sales.ts:8:3)']);
    const text = formatRunSummary(s);
    expect(text).toContain(`  failed:    JobFailedError: ${error.message}`);
    expect(text).toMatch(/job 1 take "top": .* failed in .* — JobFailedError: job 1 aborted/);
  });

  it('counts where persisted partitions came from, per stage and in total, from winning attempts only, and prints them', () => {
    // Stage 0 computes 2 cached partitions; stage 1's winners read one from executor memory and
    // one from blob; a late duplicate (ignored) that read from blob is not counted.
    const sources: [
      stage: number,
      partition: number,
      status: 'succeeded' | 'ignored',
      cache: Record<string, number>,
    ][] = [
      [0, 0, 'succeeded', { cachedComputed: 1 }],
      [0, 1, 'succeeded', { cachedComputed: 1 }],
      [1, 0, 'succeeded', { cachedFromMemory: 1 }],
      [1, 1, 'succeeded', { cachedFromBlob: 1 }],
      [1, 1, 'ignored', { cachedFromBlob: 1 }],
    ];
    const builder = new RunSummaryBuilder();
    for (const jobId of [0, 1]) {
      builder.onEvent({
        type: 'job-start',
        at: 5 + jobId,
        appId,
        jobId,
        action: 'count',
        actionName: 'count',
        hidden: false,
        stageIds: [jobId],
        skippedStageIds: [],
      });
    }
    builder.onEvent(stage(0, 0, 2, [], 10));
    builder.onEvent(stage(1, 1, 2, [], 20));
    sources.forEach(([stageId, partition, status, cache], i) => {
      const [start, end] = attemptEvents([stageId, stageId, partition, i, 'executor-1', 0, 100, 200, status]);
      builder.onEvent(start!);
      const ended = end as Extract<RunEvent, { type: 'task-end' }>;
      builder.onEvent({ ...ended, metrics: { ...ended.metrics!, ...cache } });
    });
    const summary = builder.summary();
    const [computing, reading] = summary.stages;
    expect(computing).toMatchObject({ cachedComputed: 2, cachedFromMemory: 0, cachedFromBlob: 0 });
    expect(reading).toMatchObject({ cachedComputed: 0, cachedFromMemory: 1, cachedFromBlob: 1 });
    expect(summary.totals).toMatchObject({
      cachedComputed: 2,
      cachedFromMemory: 1,
      cachedFromBlob: 1,
      cachedFromDisk: 0,
    });
    const text = formatRunSummary(summary);
    expect(text).toContain('cached partitions: 2 computed and stored');
    expect(text).toContain('cached partitions: 1 from executor memory, 1 from blob');
    expect(text).toContain(
      'cache:     partitions 1 from executor memory, 1 from blob, 2 computed and stored',
    );
    // A summary without persisted partitions prints no cache line.
    expect(formatRunSummary(build().summary())).not.toMatch(/cache/);
  });
});
