import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, SkipReason } from '../../driver/observe/run-events.js';
import { openUiPage, serveEventsInBrowser, type UiFixture } from '../helpers/browser.js';

const T = 1_800_000_000_000;
const APP = 'app-skipped-stages-0001';
const MAP = 'parallelize at cached.ts:4 → map at cached.ts:5';
const READ = 'mapValues at cached.ts:7 [cached]';

/** One job: a shuffle-map stage (skipped for `reason`, or run) and the result stage after it. */
function job(jobId: number, at: number, reason?: SkipReason): RunEvent[] {
  const [mapStage, resultStage] = [2 * jobId, 2 * jobId + 1];
  const stageEvents = (stageId: number, kind: 'shuffle-map' | 'result', parents: number[]): RunEvent[] => [
    {
      type: 'stage-submitted',
      at: at + stageId,
      appId: APP,
      jobId,
      stageId,
      kind,
      name: kind === 'result' ? READ : MAP,
      numTasks: kind === 'result' ? 3 : 4,
      parentStageIds: parents,
      ...(kind === 'shuffle-map' ? { shuffleId: 0 } : {}),
    },
    { type: 'stage-completed', at: at + stageId + 1, appId: APP, jobId, stageId, status: 'succeeded' },
  ];
  return [
    {
      type: 'job-start',
      at,
      appId: APP,
      jobId,
      action: 'collect',
      actionName: `action${jobId}`,
      hidden: false,
      stageIds: [mapStage, resultStage],
      skippedStageIds: reason ? [mapStage] : [],
      stages: [
        {
          stageId: mapStage,
          kind: 'shuffle-map',
          name: MAP,
          numPartitions: 4,
          parentStageIds: [],
          shuffleId: 0,
          ...(reason ? { skipReason: reason } : {}),
        },
        { stageId: resultStage, kind: 'result', name: READ, numPartitions: 3, parentStageIds: [mapStage] },
      ],
    },
    ...(reason ? [] : stageEvents(mapStage, 'shuffle-map', [])),
    ...stageEvents(resultStage, 'result', [mapStage]),
    { type: 'job-end', at: at + 50, appId: APP, jobId, status: 'succeeded' },
  ];
}

let ui: UiFixture;

beforeAll(async () => {
  const events: RunEvent[] = [
    {
      type: 'app-start',
      at: T,
      logVersion: 1,
      appId: APP,
      name: 'cached.ts',
      mode: 'local',
      taskQueue: 'stratus-tasks',
      totalSlots: 2,
      executors: 1,
      slotsPerExecutor: 2,
      defaultParallelism: 2,
    },
    ...job(0, T + 100),
    ...job(1, T + 200, 'above-cached-dataset'),
    ...job(2, T + 300, 'shuffle-output-exists'),
    { type: 'app-end', at: T + 400, appId: APP, status: 'succeeded' },
  ];
  ui = await serveEventsInBrowser('skipped', events);
});

afterAll(async () => {
  await ui?.close();
});

describe('stratus ui names why a stage was skipped', () => {
  it('the stages table greys the stage above the cache and the reused one, each with its reason', async () => {
    const page = await openUiPage(ui.browser, `${ui.server.url}#/app/${APP}`);
    const skipped = page.locator('#stages tbody tr.skipped');
    expect(await skipped.count()).toBe(2);
    const rows = await skipped.evaluateAll((trs) =>
      trs.map((tr) => [tr.getAttribute('data-stage-id'), tr.getAttribute('data-skip-reason')]),
    );
    expect(rows).toEqual([
      ['2', 'above-cached-dataset'],
      ['4', 'shuffle-output-exists'],
    ]);
    expect(await page.locator('#stages tr[data-stage-id="2"] .skip-reason').textContent()).toBe(
      '(above a cached dataset)',
    );
    expect(await page.locator('#stages tr[data-stage-id="4"] .skip-reason').textContent()).toBe(
      '(its shuffle output exists)',
    );
    await page.close();
  });

  it("the reading job's DAG draws the stage above the cache greyed, with its reason, and the edge to the reader", async () => {
    const page = await openUiPage(ui.browser, `${ui.server.url}#/app/${APP}/job/1`);
    expect(await page.locator('[data-testid="stat-job-stages"] b').textContent()).toBe('2');
    expect(await page.locator('[data-testid="stat-job-skipped"] b').textContent()).toBe('1');
    const box = page.locator('#dag g.stage.skipped');
    expect(await box.count()).toBe(1);
    expect(await box.getAttribute('data-stage')).toBe('2');
    expect(await box.getAttribute('data-skip-reason')).toBe('above-cached-dataset');
    expect(await box.locator('title').first().textContent()).toBe('skipped: above a cached dataset');
    expect(await page.locator('#dag line.edge[data-from="2"][data-to="3"]').count()).toBe(1);
    await page.close();
  });
});
