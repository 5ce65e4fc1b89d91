/**
 * Stages above a dataset read from blobs are listed as skipped, as Spark's JobStart lists every
 * stage of the lineage (issue 15), on a real executor against the suite's Azurite (through a
 * request counter, no mock). A driver whose dataset is cached right after a shuffle runs two
 * jobs: the second lists the shuffle-map stage above the cache as skipped ("above a cached
 * dataset") in its job-start, the progress line and the run summary, submits none of its tasks,
 * and gives plain JS's results. A later run of the same driver session reading the cache does
 * the same, though this run never wrote that shuffle. Listing costs no storage request: each run
 * makes, kind by kind, the requests of the same module with checkpoint() instead of cache() —
 * the same work, whose plan lists nothing above the stored dataset (lineage truncated).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleProgress } from '../../driver/observe/progress.js';
import type { RunEvent } from '../../driver/observe/run-events.js';
import { RunSummaryBuilder } from '../../driver/observe/run-summary.js';
import { formatRunSummary } from '../../driver/observe/run-summary-text.js';
import { RequestCounter } from '../../storage/testing/request-counter.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { TextSink } from '../observability/text-sink.js';
import { type CachedAfterShuffleParams, cachedAfterShuffleReference } from './jobs/cached-after-shuffle.js';

const MODULE = path.resolve(import.meta.dirname, 'jobs', 'cached-after-shuffle.ts');

let counter: RequestCounter;
let e2e: E2EFabric;

beforeAll(async () => {
  counter = await RequestCounter.startFor(suiteConnectionString());
  // One executor with one slot: every stored partition is read from its memory copy and each
  // stage descriptor is read once, whichever task comes first, so the counts are exact.
  e2e = await startE2E({
    label: 'above-cache',
    executors: 1,
    slots: 1,
    connectionString: counter.connectionString,
    // A speculative copy (under this machine's load) would add attempts and requests of its own.
    driver: { speculation: { enabled: false } },
  });
});

afterAll(async () => {
  await e2e?.close();
  await counter?.stop();
});

/**
 * Requests whose number the plan decides: blobs under the application's prefix (stage
 * descriptors, map outputs and tables, stored partitions, results) and task messages sent. The
 * event log, the lease and executors' polling and heartbeats follow the clock, not the plan.
 */
function planned(kind: string, requestPath: string, appId: string): boolean {
  if (kind.startsWith('blob:'))
    return requestPath.includes(`/apps/${appId}/`) && !/lease|event-log/.test(kind);
  return kind === 'queue:send' && !requestPath.includes('stratus-events');
}

interface CountedRun {
  results: { total: number; pairs: [number, number][] };
  computed: number;
  requests: Record<string, number>;
  events: RunEvent[];
}

/** Run the module once, counting its planned requests; its results are checked against plain JS. */
async function runCounted(params: CachedAfterShuffleParams): Promise<CountedRun> {
  e2e.events.clear();
  const requests: Record<string, number> = {};
  const appId = e2e.driver.appId;
  const stop = counter.onRequest((r) => {
    if (planned(r.kind, r.path, appId)) requests[r.kind] = (requests[r.kind] ?? 0) + 1;
  });
  let report: Awaited<ReturnType<typeof e2e.driver.runWithReport>>;
  try {
    report = await e2e.driver.runWithReport(MODULE, params);
  } finally {
    stop();
  }
  const results = report.results as CountedRun['results'];
  const reference = cachedAfterShuffleReference(params.n);
  expect(results.total).toBe([...reference.values()].reduce((a, b) => a + b, 0));
  expect([...results.pairs].sort((a, b) => a[0] - b[0])).toEqual([...reference].sort((a, b) => a[0] - b[0]));
  return {
    results,
    computed: report.accumulators.computed as number,
    requests,
    events: [...e2e.events.events],
  };
}

const jobStarts = (events: RunEvent[]) =>
  events.filter((e): e is Extract<RunEvent, { type: 'job-start' }> => e.type === 'job-start');
const submittedStages = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'stage-submitted' ? [e.stageId] : []));

/** Checks a job that reads the cache: its shuffle-map stage is listed, skipped above the cache, never submitted. */
function expectListedAboveCache(events: RunEvent[], job: Extract<RunEvent, { type: 'job-start' }>): void {
  expect(job.stageIds).toHaveLength(2);
  const [mapStage, resultStage] = job.stages!;
  expect(mapStage).toMatchObject({ kind: 'shuffle-map', shuffleId: 0, skipReason: 'above-cached-dataset' });
  expect(resultStage).toMatchObject({ kind: 'result', parentStageIds: [mapStage!.stageId] });
  expect(resultStage!.skipReason).toBeUndefined();
  expect(job.skippedStageIds).toEqual([mapStage!.stageId]);
  expect(job.plan).toContain('skipped: above the cached mapValues');
  const submitted = submittedStages(events);
  expect(submitted).toContain(resultStage!.stageId);
  expect(submitted).not.toContain(mapStage!.stageId);
  const tasksOfListed = events.filter((e) => e.type === 'task-start' && e.stageId === mapStage!.stageId);
  expect(tasksOfListed).toEqual([]);
}

describe('stages above a cached dataset, on executors', () => {
  it('the second job lists the stage above the cache as skipped, runs none of its tasks, and gives plain JS results', async () => {
    const params = { n: 350, slices: 4, mode: 'cache' } as const;
    const run = await runCounted(params);
    // The map above the shuffle ran once: in the first job.
    expect(run.computed).toBe(params.n);
    const [first, second] = jobStarts(run.events);
    expect(first!.skippedStageIds).toEqual([]);
    expectListedAboveCache(run.events, second!);

    const progressOut = new TextSink();
    const progress = new ConsoleProgress({ stream: progressOut, tty: false });
    for (const event of run.events) progress.onEvent(event);
    expect(progressOut.text).toMatch(/job \d+ started: collect at \S+ "pairs" — 2 stages, 1 skipped/);

    const builder = new RunSummaryBuilder();
    for (const event of run.events) builder.onEvent(event);
    const text = formatRunSummary(builder.summary());
    expect(text).toMatch(/"pairs": 2 stages \(1 run, 1 skipped\)/);
    expect(text).toContain(
      `stage ${second!.skippedStageIds[0]} shuffle-map: 4 partitions, skipped (above a cached dataset)`,
    );
  }, 240_000);

  it('listing costs no request: the same run and a later run of the session make the requests of the checkpointed baseline, kind by kind', async () => {
    const n = 420;
    const cached = { n, slices: 3, mode: 'cache' } as const;
    const baseline = { n, slices: 3, mode: 'checkpoint' } as const;
    const cachedRuns = [await runCounted(cached), await runCounted(cached)];
    const baselineRuns = [await runCounted(baseline), await runCounted(baseline)];

    // The later run of the session reads the cache the first one stored: nothing above it runs,
    // though this run never wrote the shuffle, and both its jobs list the stage above as skipped.
    expect(cachedRuns.map((r) => r.computed)).toEqual([n, 0]);
    const later = jobStarts(cachedRuns[1]!.events);
    expect(later).toHaveLength(2);
    for (const job of later) expectListedAboveCache(cachedRuns[1]!.events, job);
    // The baseline lists nothing above its checkpoint.
    for (const job of jobStarts(baselineRuns[1]!.events)) expect(job.stageIds).toHaveLength(1);

    for (const [i, run] of cachedRuns.entries()) {
      expect(run.requests['queue:send']).toBeGreaterThan(0);
      expect(run.requests['blob:put:stage-descriptor']).toBeGreaterThan(0);
      expect(run.requests).toEqual(baselineRuns[i]!.requests);
    }
  }, 300_000);
});
