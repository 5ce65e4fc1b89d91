/**
 * `stratus ui` in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * it loads a recorded run's event log and shows its counts — 7 jobs (1 hidden), 15 stages
 * (4 skipped), 34 tasks on 2 executors × 2 slots — its stage DAGs, task tables with
 * quantiles and the timeline; it follows a log that is still being written; and it saves a
 * screenshot to test-artifacts/ui.png. Without Chromium this test fails, it never skips.
 */
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUiServer, type UiServer } from '../../driver/observe/ui/server.js';
import { launchChromium, openUiPage } from '../helpers/browser.js';

const FIXTURE = path.resolve(import.meta.dirname, 'fixtures/recorded-run.jsonl');
const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

let browser: Browser;
let server: UiServer;
let appId: string;
let lines: string[];

beforeAll(async () => {
  browser = await launchChromium();
  lines = (await readFile(FIXTURE, 'utf8')).trim().split('\n');
  appId = (JSON.parse(lines[0]!) as { appId: string }).appId;
  server = await startUiServer({ port: 0, source: { file: FIXTURE } });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const open = (url: string) => openUiPage(browser, url);

const statValue = (page: Page, id: string) => page.locator(`[data-testid="stat-${id}"] b`).textContent();

describe('stratus ui in headless Chromium', () => {
  it('lists the recorded application with its jobs, stages and tasks', async () => {
    const page = await open(server.url);
    const row = page.locator('#apps tbody tr');
    expect(await row.count()).toBe(1);
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[0]).toBe(appId);
    expect(cells[1]).toBe('observed');
    expect(cells[2]).toBe('succeeded');
    expect(cells.slice(5)).toEqual(['7', '15', '34', '']); // jobs, stages, tasks, no failure reason
    await page.close();
  });

  it("shows the application's jobs, stages, executors, slots and one timeline bar per attempt", async () => {
    const page = await open(`${server.url}#/app/${appId}`);
    expect(await statValue(page, 'jobs')).toBe('7');
    expect(await statValue(page, 'stages')).toBe('15');
    expect(await statValue(page, 'tasks')).toBe('34');
    expect(await statValue(page, 'executors')).toBe('2');
    expect(await statValue(page, 'slots')).toBe('4');
    expect(await page.locator('#jobs tbody tr').count()).toBe(7);
    expect(await page.locator('#jobs .hidden-job').count()).toBe(1);
    expect(await page.locator('#stages tbody tr').count()).toBe(15);
    expect(await page.locator('#stages .status-skipped').count()).toBe(4);
    expect(await page.locator('#executors tbody tr').count()).toBe(2);
    expect(await page.locator('#timeline rect.task-bar').count()).toBe(34);
    expect(await page.locator('#timeline rect.task-bar[data-status="succeeded"]').count()).toBe(34);
    // Every outcome has its colour in the legend, killed attempts included.
    for (const outcome of ['succeeded', 'failed', 'ignored', 'lost', 'killed', 'running']) {
      expect(await page.locator(`.legend [data-legend="${outcome}"]`).count()).toBe(1);
    }
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui.png'), fullPage: true });
    await page.close();
  });

  it("draws a job's stage DAG: stages as boxes, skipped ones marked, shuffle dependencies as arrows", async () => {
    // Job 2 is sorted-counts' `take`: its first stage was computed by the hidden sampling job.
    const page = await open(`${server.url}#/app/${appId}/job/2`);
    expect(await page.locator('#dag g.stage').count()).toBe(3);
    expect(await page.locator('#dag g.stage.skipped').count()).toBe(1);
    expect(await page.locator('#dag line.edge').count()).toBe(2);
    expect(await statValue(page, 'job-tasks')).toBe('5');
    await page.close();
  });

  it("shows a stage's task attempts and Spark's summary quantiles of their durations", async () => {
    const page = await open(`${server.url}#/app/${appId}/stage/0`);
    expect(await page.locator('#tasks tbody tr').count()).toBe(6);
    const durations = lines
      .map((l) => JSON.parse(l) as { type: string; stageId?: number; metrics?: { durationMs: number } })
      .filter((e) => e.type === 'task-end' && e.stageId === 0)
      .map((e) => e.metrics!.durationMs)
      .sort((a, b) => a - b);
    const fmt = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);
    const row = await page.locator('#quantiles tbody tr').first().locator('td').allInnerTexts();
    // min, 25th, median (index ⌊0.5·5⌋ = 2), 75th, max of 6 durations
    expect(row).toEqual(['Duration', ...[0, 1, 2, 3, 5].map((i) => fmt(durations[i]!))]);
    await page.close();
  });

  it('lists the accumulators of each run, bad-record counts named by their input', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stratus-ui-acc-'));
    try {
      const file = path.join(dir, 'acc.jsonl');
      let jobEnds = 0;
      const withAccumulators = lines.map((l) => {
        const e = JSON.parse(l) as { type: string; accumulators?: Record<string, unknown> };
        if (e.type !== 'job-end' || jobEnds++ > 0) return l;
        return JSON.stringify({ ...e, accumulators: { 'badRecords:data/sales.csv': 2, rows: 40 } });
      });
      await writeFile(file, `${withAccumulators.join('\n')}\n`);
      const served = await startUiServer({ port: 0, source: { file } });
      try {
        const page = await open(`${served.url}#/app/${appId}`);
        const rows = await page.locator('#accumulators tbody tr').allInnerTexts();
        expect(rows.map((r) => r.split('\t').slice(2))).toEqual([
          ['bad records skipped in data/sales.csv', '2'],
          ['rows', '40'],
        ]);
        await page.close();
      } finally {
        await served.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("shows where a stage's persisted partitions came from, per task and for the stage", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stratus-ui-cache-'));
    try {
      const file = path.join(dir, 'cache.jsonl');
      // Stage 0's winning attempts: the first two read executor memory, the rest read blobs.
      let winners = 0;
      const withSources = lines.map((l) => {
        const e = JSON.parse(l) as { type: string; stageId?: number; status?: string; metrics?: object };
        if (e.type !== 'task-end' || e.stageId !== 0 || e.status !== 'succeeded' || !e.metrics) return l;
        const source = winners++ < 2 ? { cachedFromMemory: 1 } : { cachedFromBlob: 1 };
        return JSON.stringify({ ...e, metrics: { ...e.metrics, ...source } });
      });
      await writeFile(file, `${withSources.join('\n')}\n`);
      const served = await startUiServer({ port: 0, source: { file } });
      try {
        const page = await open(`${served.url}#/app/${appId}/stage/0`);
        expect(winners).toBeGreaterThan(2);
        expect(await statValue(page, 'stage-cached')).toBe(`2 memory · ${winners - 2} blob`);
        const cells = await page
          .locator('#tasks tbody tr[data-status="succeeded"] td.cached')
          .allInnerTexts();
        expect(cells.filter((c) => c === '1 memory')).toHaveLength(2);
        expect(cells.filter((c) => c === '1 blob')).toHaveLength(winners - 2);
        await page.close();
      } finally {
        await served.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('follows a running application: new events in the log appear without a reload', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stratus-ui-live-'));
    try {
      const file = path.join(dir, 'live.jsonl');
      // Everything up to the end of the first job (pair-sums: 9 tasks).
      const firstJobEnd = lines.findIndex((l) => l.includes('"type":"job-end"'));
      await writeFile(file, `${lines.slice(0, firstJobEnd + 1).join('\n')}\n`);
      const live = await startUiServer({ port: 0, source: { file } });
      try {
        const page = await open(`${live.url}#/app/${appId}`);
        expect(await statValue(page, 'tasks')).toBe('9');
        expect(await page.locator('#live').isVisible()).toBe(true);
        await appendFile(file, `${lines.slice(firstJobEnd + 1).join('\n')}\n`);
        // Functions run in the page: given as source text, as this project compiles without DOM types.
        await page.waitForFunction(
          `document.querySelector('[data-testid="stat-tasks"] b')?.textContent === '34'`,
          undefined,
          { timeout: 10_000 },
        );
        await page.waitForFunction(`document.getElementById('live').hidden === true`, undefined, {
          timeout: 10_000,
        });
        await page.close();
      } finally {
        await live.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
