/** Console progress: Spark's bar format, and plain lines when stderr is not a terminal. */
import { describe, expect, it } from 'vitest';
import { ConsoleProgress, formatStageBar } from '../../driver/observe/progress.js';
import type { RunEvent } from '../../driver/observe/run-events.js';
import { TextSink } from './text-sink.js';

const appId = 'app-progress';

describe('console progress', () => {
  it('draws a stage as Spark does: [Stage N:===>   (done + running) / total]', () => {
    expect(formatStageBar(3, 12, 4, 64, 40)).toBe('[Stage 3:===>             (12 + 4) / 64]');
    expect(formatStageBar(3, 12, 4, 64, 40)).toHaveLength(40);
    expect(formatStageBar(0, 0, 2, 8, 30)).toBe('[Stage 0:>        (0 + 2) / 8]');
    expect(formatStageBar(1, 8, 0, 8, 30)).toBe('[Stage 1:=========(8 + 0) / 8]');
    expect(formatStageBar(12, 1, 1, 2, 10)).toBe('[Stage 12:(1 + 1) / 2]');
  });

  it('prints plain lines for jobs and stages, with task counts and times, when not on a terminal', async () => {
    const out = new TextSink();
    const progress = new ConsoleProgress({ stream: out, tty: false });
    const task = (
      partition: number,
      attempt: number,
      status: 'succeeded' | 'failed',
      speculative = false,
    ) => {
      const base = {
        appId,
        jobId: 0,
        stageId: 1,
        partition,
        attempt,
        executorId: 'executor-1',
        slot: 0,
        launchedAt: 1000,
        speculative,
      };
      return [
        { ...base, type: 'task-start', at: 1100 },
        { ...base, type: 'task-end', at: 1200, status },
      ] as RunEvent[];
    };
    const events: RunEvent[] = [
      {
        type: 'job-start',
        at: 1000,
        appId,
        jobId: 0,
        action: 'collect',
        callSite: 'wordcount.ts:12',
        actionName: 'result',
        hidden: false,
        stageIds: [0, 1],
        skippedStageIds: [0],
      },
      {
        type: 'stage-submitted',
        at: 1000,
        appId,
        jobId: 0,
        stageId: 1,
        kind: 'result',
        name: 'reduceByKey (node 2)',
        numTasks: 2,
        parentStageIds: [0],
      },
      ...task(0, 0, 'failed'),
      ...task(0, 1, 'succeeded'),
      ...task(1, 0, 'succeeded', true),
      { type: 'stage-completed', at: 2500, appId, jobId: 0, stageId: 1, status: 'succeeded' },
      { type: 'notice', at: 2600, appId, level: 'warn', message: 'executor-2 went silent' },
      { type: 'job-end', at: 3000, appId, jobId: 0, status: 'succeeded' },
    ];
    for (const e of events) progress.onEvent(e);
    await progress.close();
    expect(out.text.split('\n')).toEqual([
      'job 0 started: collect at wordcount.ts:12 "result" — 2 stages, 1 skipped',
      'stage 1 submitted (job 0, result): 2 tasks — reduceByKey (node 2)',
      'stage 1 succeeded in 1.50 s: 2/2 tasks, 3 attempts (1 failed, 1 speculative)',
      'warn: executor-2 went silent',
      'job 0 succeeded in 2.00 s',
      '',
    ]);
  });

  it("says where a stage's persisted partitions came from, and what its tasks spilled, when they report any", async () => {
    const out = new TextSink();
    const progress = new ConsoleProgress({ stream: out, tty: false });
    const base = {
      appId,
      jobId: 0,
      stageId: 0,
      attempt: 0,
      executorId: 'executor-1',
      slot: 0,
      launchedAt: 1000,
    };
    const metrics = (cache: Record<string, number>) => ({
      durationMs: 10,
      recordsRead: 0,
      recordsWritten: 0,
      bytesRead: 0,
      bytesWritten: 0,
      shuffleReadBytes: 0,
      shuffleWriteBytes: 0,
      peakMemoryBytes: 0,
      spillCount: 0,
      ...cache,
    });
    const events: RunEvent[] = [
      {
        type: 'stage-submitted',
        at: 1000,
        appId,
        jobId: 0,
        stageId: 0,
        kind: 'result',
        name: 'count',
        numTasks: 3,
        parentStageIds: [],
      },
      ...[
        { cachedFromMemory: 1, spillCount: 2, spillBytes: 2 * 1024 * 1024 },
        { cachedFromMemory: 1 },
        { cachedFromBlob: 1, spillCount: 1, spillBytes: 1024 * 1024 },
      ].map(
        (cache, partition): RunEvent => ({
          ...base,
          partition,
          type: 'task-end',
          at: 1200,
          status: 'succeeded',
          metrics: metrics(cache),
        }),
      ),
      { type: 'stage-completed', at: 1500, appId, jobId: 0, stageId: 0, status: 'succeeded' },
    ];
    for (const e of events) progress.onEvent(e);
    await progress.close();
    expect(out.text).toContain(
      'stage 0 succeeded in 0.50 s: 3/3 tasks, 3 attempts (0 failed, 0 speculative); cached partitions: 2 from executor memory, 1 from blob; spilled 3.0 MiB in 3 spills',
    );
  });

  it('draws the bar through cli-progress on a terminal and clears it when the stages end', async () => {
    const out = Object.assign(new TextSink(), {
      isTTY: true,
      columns: 60,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
      clearScreenDown: () => true,
    });
    const progress = new ConsoleProgress({ stream: out, width: 60 });
    progress.onEvent({
      type: 'stage-submitted',
      at: 0,
      appId,
      jobId: 0,
      stageId: 4,
      kind: 'result',
      name: 'x',
      numTasks: 10,
      parentStageIds: [],
    });
    progress.onEvent({
      type: 'task-start',
      at: 0,
      appId,
      jobId: 0,
      stageId: 4,
      partition: 0,
      attempt: 0,
      executorId: 'e',
      slot: 0,
      launchedAt: 0,
    });
    // cli-progress redraws on its own timer (5 fps): wait for the first frame, bounded.
    const deadline = Date.now() + 5000;
    while (!out.text.includes('(0 + 1) / 10]') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(out.text).toContain('[Stage 4:>');
    expect(out.text).toContain('(0 + 1) / 10]');
    progress.onEvent({ type: 'stage-completed', at: 1, appId, jobId: 0, stageId: 4, status: 'succeeded' });
    await progress.close();
  });
});
