/**
 * A real run on executors (2 × 2 slots), observed by every listener of this issue at once:
 * explain's jobs, stages and partitions equal what the run did; the event log in
 * `stratus-logs` reads back equal to the events the driver emitted; the summary and the
 * plain progress lines agree with them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLogWriter, readEventLog } from '../../driver/observe/event-log.js';
import { explainModule } from '../../driver/observe/explain.js';
import { ConsoleProgress } from '../../driver/observe/progress.js';
import { RunEventSchema } from '../../driver/observe/run-events.js';
import { RunSummaryBuilder } from '../../driver/observe/run-summary.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type E2EFabric, RecordingListener, startE2E } from '../helpers/e2e.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { TextSink } from './text-sink.js';

const JOBS = path.resolve(import.meta.dirname, 'fixtures/jobs');
const DATA = path.resolve(import.meta.dirname, 'fixtures/data');

let e2e: E2EFabric;
let dir: string;
let writer: EventLogWriter;
const summary = new RunSummaryBuilder();
const progressOut = new TextSink();
const recorder = new RecordingListener();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-obs-'));
  const blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
  writer = new EventLogWriter({ blobs, localFile: path.join(dir, 'run.jsonl') });
  e2e = await startE2E({
    label: 'obs',
    driver: {
      name: 'observed',
      // This test writes the event log itself, to check the writer; the driver's own would double it.
      eventLog: false,
      listeners: [recorder, writer, summary, new ConsoleProgress({ stream: progressOut, tty: false })],
    },
  });
});

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Jobs → stages → partitions as a run reports them (stage-submitted numTasks; skipped stages as 'skipped'). */
function runShape() {
  const s = summary.summary();
  return s.jobs.map((j) => ({
    hidden: j.hidden,
    stages: j.stageIds.map((id) => {
      const st = s.stages.find((x) => x.stageId === id)!;
      return st.skipped ? 'skipped' : st.numTasks;
    }),
  }));
}

describe('explain, event log, summary and progress on a real run', () => {
  it('explain predicts the jobs, stages and partitions the runs trigger', async () => {
    const runs: [string, Record<string, unknown>][] = [
      [path.join(JOBS, 'pair-sums.ts'), {}],
      [path.join(JOBS, 'sorted-counts.ts'), {}],
      [path.join(JOBS, 'cached-words.ts'), { input: path.join(DATA, '*.txt') }],
    ];
    const predicted = [];
    for (const [module, params] of runs) {
      const e = await explainModule(module, params, { slots: e2e.fabric.totalSlots });
      predicted.push(
        ...e.jobs.map((j) => ({
          hidden: j.hidden,
          stages: j.stages.map((s) => (s.skipped ? 'skipped' : s.partitions)),
        })),
      );
      await e2e.driver.run(module, params as never);
    }
    expect(runShape()).toEqual(predicted);
    // And the stage ids the scheduler gave (application-wide) follow the same order.
    expect(summary.summary().totals.jobs).toBe(1 + 4 + 2);
  });

  it('the event log in stratus-logs reads back equal to the events emitted, in batched appends', async () => {
    await writer.flush();
    const appId = e2e.driver.appId;
    const blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
    const fromBlob = await readEventLog({ blobs, appId });
    const emitted = recorder.events;
    expect(fromBlob).toEqual(emitted.map((e) => RunEventSchema.parse(JSON.parse(JSON.stringify(e)))));
    const fromFile = await readEventLog({ file: path.join(dir, 'run.jsonl') });
    expect(fromFile).toEqual(fromBlob);
    // Far fewer appends than events (Azurite's request budget belongs to the tasks).
    expect(writer.blobAppends).toBeLessThan(fromBlob.length / 4);
  });

  it('the summary counts every task the executors reported and names the executors and slots', () => {
    const s = summary.summary();
    const ends = recorder.of('task-end');
    expect(s.totals.attempts).toBe(ends.length);
    expect(s.totals.succeeded).toBe(ends.filter((e) => e.status === 'succeeded').length);
    expect(s.totals.tasks).toBe(s.jobs.reduce((n, j) => n + j.tasks, 0));
    expect(s.totals.succeeded).toBeGreaterThanOrEqual(s.totals.tasks);
    expect(s.totals.executorsSeen).toBeLessThanOrEqual(2);
    expect(s.totals.slotsSeen).toBeLessThanOrEqual(4);
    expect(s.totals.hiddenJobs).toBe(1);
    expect(s.cost.executions).toBe(ends.length);
    expect(s.cost.totalUsd).toBeGreaterThan(0);
  });

  it('plain progress prints a submitted and a completed line for every stage that ran', () => {
    const lines = progressOut.text.split('\n');
    const s = summary.summary();
    for (const st of s.stages.filter((x) => !x.skipped)) {
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^stage ${st.stageId} submitted \\(job ${st.jobId}, `)),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(`^stage ${st.stageId} succeeded in [0-9.]+ s: ${st.numTasks}/${st.numTasks} tasks`),
        ),
      );
    }
  });
});
