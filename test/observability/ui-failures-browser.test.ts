import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../driver/observe/run-events.js';
import { openUiPage, serveEventsInBrowser, type UiFixture } from '../helpers/browser.js';

const T = 1_800_000_000_000;
const BAD_PARAMS = 'app-failed-params-0001';
const FAILED_JOB = 'app-failed-job-0002';
const STACK =
  'TypeError: row.amount.toFixed is not a function\n    at map (sales.ts:8:31)\n    at filter (sales.ts:7:12)';
/** A long pipeline of call sites: the operators column must wrap it, not cut it. */
const OPERATORS = [
  'csv at sales.ts:5',
  'filter at sales.ts:7',
  'map at sales.ts:8',
  'keyBy at sales.ts:9',
  'mapValues at sales.ts:10',
  'flatMapValues at sales.ts:11',
  'filter at sales.ts:12',
].join(' → ');

function appStart(appId: string, at: number): RunEvent {
  return {
    type: 'app-start',
    at,
    logVersion: 1,
    appId,
    name: 'sales.ts',
    mode: 'local',
    taskQueue: 'stratus-tasks',
    totalSlots: 4,
    executors: 2,
    slotsPerExecutor: 2,
    defaultParallelism: 4,
  };
}

function failingRun(): RunEvent[] {
  const appId = FAILED_JOB;
  const attempt = (n: number, executorId: string): RunEvent[] => {
    const base = {
      appId,
      jobId: 0,
      stageId: 0,
      partition: 1,
      attempt: n,
      messageAttempt: 0,
      delivery: n + 1,
      executorId,
      slot: 0,
      launchedAt: T + 20,
    };
    return [
      { type: 'task-start', at: T + 30 + n * 100, ...base },
      {
        type: 'task-end',
        at: T + 80 + n * 100,
        ...base,
        startedAt: T + 30 + n * 100,
        status: 'failed',
        error: {
          name: 'UserCodeError',
          message: `map at sales.ts:8 threw: row.amount.toFixed is not a function (delivery ${n + 1})`,
          stack: STACK,
        },
      },
    ];
  };
  const jobError = {
    name: 'JobFailedError',
    message: 'job 0 aborted: stage 0, partition 1 failed 4 times: UserCodeError: map at sales.ts:8 threw',
    stack: STACK,
  };
  return [
    appStart(appId, T),
    {
      type: 'job-start',
      at: T + 10,
      appId,
      jobId: 0,
      action: 'count',
      actionName: 'result',
      hidden: false,
      stageIds: [0],
      skippedStageIds: [],
      stages: [{ stageId: 0, kind: 'result', name: OPERATORS, numPartitions: 2, parentStageIds: [] }],
    },
    {
      type: 'stage-submitted',
      at: T + 20,
      appId,
      jobId: 0,
      stageId: 0,
      kind: 'result',
      name: OPERATORS,
      numTasks: 2,
      parentStageIds: [],
    },
    ...attempt(0, 'executor-0'),
    ...attempt(1, 'executor-1'),
    ...attempt(2, 'executor-0'),
    ...attempt(3, 'executor-1'),
    { type: 'stage-completed', at: T + 500, appId, jobId: 0, stageId: 0, status: 'failed', error: jobError },
    { type: 'job-end', at: T + 500, appId, jobId: 0, status: 'failed', error: jobError },
    { type: 'app-end', at: T + 600, appId, status: 'failed', error: jobError },
  ];
}

function badParamsRun(): RunEvent[] {
  return [
    appStart(BAD_PARAMS, T + 1000),
    {
      type: 'app-end',
      at: T + 1200,
      appId: BAD_PARAMS,
      status: 'failed',
      error: { name: 'ConfigError', message: 'sales.ts: param "input" is required' },
    },
  ];
}

let ui: UiFixture;

beforeAll(async () => {
  ui = await serveEventsInBrowser('failures', [...failingRun(), ...badParamsRun()]);
});

afterAll(async () => {
  await ui?.close();
});

const open = (url: string) => openUiPage(ui.browser, url);

describe('stratus ui says why something failed', () => {
  it('an application that failed before any job shows its reason, in the list and on its page', async () => {
    const list = await open(ui.server.url);
    const row = list.locator('#apps tbody tr', { hasText: BAD_PARAMS });
    expect(await row.locator('td.reason').textContent()).toBe(
      'ConfigError: sales.ts: param "input" is required',
    );
    await list.close();

    const page = await open(`${ui.server.url}#/app/${BAD_PARAMS}`);
    expect(await page.locator('[data-testid="app-error"]').textContent()).toContain(
      'param "input" is required',
    );
    expect(await page.locator('#no-jobs').textContent()).toContain('failed before its first action');
    expect(await page.locator('#no-tasks').textContent()).toContain('param "input" is required');
    expect(await page.getByText('No task has started yet').count()).toBe(0);
    await page.close();
  });

  it('a failed job and its stage show their reason, the stack behind a details view', async () => {
    const page = await open(`${ui.server.url}#/app/${FAILED_JOB}`);
    const jobReason = page.locator('[data-testid="job-0-error"]');
    expect(await jobReason.locator('summary').textContent()).toContain('partition 1 failed 4 times');
    expect(await jobReason.locator('pre.stack').isVisible()).toBe(false);
    await jobReason.locator('summary').click();
    expect(await jobReason.locator('pre.stack').textContent()).toContain('at map (sales.ts:8:31)');
    expect(await page.locator('[data-testid="stage-0-error"] summary').textContent()).toContain(
      'JobFailedError',
    );
    expect(await page.locator('[data-testid="app-error"] summary').textContent()).toContain('JobFailedError');
    await page.close();
  });

  it('every failed attempt is a row of its own, numbered, with its reason and stack', async () => {
    const page = await open(`${ui.server.url}#/app/${FAILED_JOB}/stage/0`);
    expect(await page.locator('[data-testid="stat-stage-attempts"] b').textContent()).toBe('4');
    const rows = page.locator('#tasks tbody tr[data-status="failed"]');
    expect(await rows.count()).toBe(4);
    const attempts = await rows.evaluateAll((trs) => trs.map((tr) => tr.children[1]!.textContent?.trim()));
    expect(attempts).toEqual(['0', '1', '2', '3']);
    const last = page.locator('[data-testid="attempt-1-3-error"]');
    expect(await last.locator('summary').textContent()).toContain('(delivery 4)');
    await last.locator('summary').click();
    expect(await last.locator('pre.stack').textContent()).toContain('at map (sales.ts:8:31)');
    await page.close();
  });

  it('at 1400 px the operators column and the DAG labels are shown whole', async () => {
    const page = await open(`${ui.server.url}#/app/${FAILED_JOB}`);
    const ops = page.locator('#stages td.ops').first();
    expect(await ops.textContent()).toBe(OPERATORS);
    // The page's viewport is 1400 px wide (openUiPage).
    const fits = await ops.evaluate((td) => {
      const r = td.getBoundingClientRect();
      return r.right <= 1400 && td.scrollWidth <= td.clientWidth;
    });
    expect(fits).toBe(true);
    await page.close();

    const dag = await open(`${ui.server.url}#/app/${FAILED_JOB}/job/0`);
    const label = dag.locator('#dag text.ops').first();
    const shown = await label.evaluate((t) =>
      [...t.querySelectorAll('tspan')].map((s) => s.textContent).join(' '),
    );
    // Wrapped at its arrows over several lines, every operator whole.
    expect(await label.locator('tspan').count()).toBeGreaterThan(1);
    expect(shown).toBe(OPERATORS);
    type Boxed = { getBBox(): { x: number; y: number; width: number; height: number } };
    const inside = await dag
      .locator('#dag g.stage')
      .first()
      .evaluate((g) => {
        const box = (g.querySelector('rect') as unknown as Boxed).getBBox();
        const text = (g.querySelector('text.ops') as unknown as Boxed).getBBox();
        return text.x + text.width <= box.x + box.width && text.y + text.height <= box.y + box.height;
      });
    expect(inside).toBe(true);
    await dag.close();
  });
});
