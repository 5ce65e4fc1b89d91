/**
 * For each example — word count, join, sort, orders, PageRank and the PageRank driver script —
 * the three answers to "how many partitions, slots, jobs and stages" agree: `stratus explain`
 * (no task run), the run summary of a real run on executors, and `stratus ui` in headless
 * Chromium over that run's event log. One fabric (2 executors × 2 slots, its size published as
 * `stratus local` does, so explain and the driver both read it), one browser, small inputs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Driver } from '../../driver/app/driver.js';
import { planSlots } from '../../driver/fabric/connection.js';
import { type LocalFabric, startLocalFabric } from '../../driver/fabric/local-fabric.js';
import { type Explanation, explainModule } from '../../driver/observe/explain.js';
import { type RunSummary, RunSummaryBuilder } from '../../driver/observe/run-summary.js';
import { startUiServer, type UiServer } from '../../driver/observe/ui/server.js';
import pagerankDriver from '../../examples/pagerank-driver.js';
import { launchChromium, openUiPage } from '../helpers/browser.js';
import { FAST_HOST_ENV, suiteConnectionString, uniqueTaskQueue } from '../helpers/fabric.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');

let fabric: LocalFabric;
let logDir: string;
let ui: UiServer;
let browser: Browser;
let plannedSlots: number;

beforeAll(async () => {
  browser = await launchChromium();
  fabric = await startLocalFabric({
    executors: 2,
    slots: 2,
    queue: uniqueTaskQueue('examples-ui'),
    connectionString: suiteConnectionString(),
    hostEnv: { ...FAST_HOST_ENV, STRATUS_HEARTBEAT_MS: '1000' },
    log: () => undefined,
  });
  await fabric.publish();
  // What `stratus explain --connection-string …` plans for: the slots the running fabric published.
  plannedSlots = (await planSlots({ connectionString: fabric.connectionString, taskQueue: fabric.queue }))
    .totalSlots;
  logDir = await mkdtemp(path.join(tmpdir(), 'stratus-examples-ui-'));
  ui = await startUiServer({ port: 0, source: { dir: logDir } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await fabric?.stop();
  if (logDir) await rm(logDir, { recursive: true, force: true });
});

/** The four answers for one application: slots, and per job its stages with partitions and parents. */
interface Shape {
  slots: number;
  jobs: {
    jobId: number;
    hidden: boolean;
    stages: { stageId: number; partitions: number; skipped: boolean; parents: number[] }[];
  }[];
}

/** Explain's answers for the runs of one application, job and stage ids continuing from run to run. */
function explainedShape(runs: readonly Explanation[]): Shape {
  let jobOffset = 0;
  let stageOffset = 0;
  const jobs: Shape['jobs'] = [];
  for (const e of runs) {
    for (const job of e.jobs) {
      jobs.push({
        jobId: job.jobId + jobOffset,
        hidden: job.hidden,
        stages: job.stages.map((s) => ({
          stageId: s.stageId + stageOffset,
          partitions: s.partitions,
          skipped: s.skipped,
          parents: s.parentStageIds.map((p) => p + stageOffset),
        })),
      });
    }
    jobOffset += e.jobs.length;
    stageOffset += e.totals.stages;
  }
  return { slots: runs[0]!.slots, jobs };
}

function summaryShape(s: RunSummary): Shape {
  return {
    slots: s.plannedSlots!,
    jobs: s.jobs.map((j) => ({
      jobId: j.jobId,
      hidden: j.hidden,
      stages: j.stageIds.map((id) => {
        const st = s.stages.find((x) => x.stageId === id)!;
        return { stageId: id, partitions: st.partitions, skipped: st.skipped, parents: st.parentStageIds };
      }),
    })),
  };
}

const open = (url: string) => openUiPage(browser, url);

/** The data attributes of every element matching `selector` (page code is given as text: no DOM types here). */
async function datasets(page: Page, selector: string): Promise<Record<string, string>[]> {
  const json = await page.evaluate(
    `JSON.stringify([...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => ({ ...e.dataset, class: e.getAttribute('class') ?? '' })))`,
  );
  return JSON.parse(json as string);
}

/** What the UI shows for one application: its jobs table, each job's stage DAG, its planned slots. */
async function uiShape(appId: string): Promise<Shape & { stageRows: Record<string, string>[] }> {
  const page = await open(`${ui.url}#/app/${appId}`);
  const slots = Number(await page.locator('[data-testid="stat-planned-slots"] b').textContent());
  const jobRows = await datasets(page, '#jobs tbody tr');
  const stageRows = await datasets(page, '#stages tbody tr');
  const jobs: Shape['jobs'] = [];
  await page.close();
  for (const row of jobRows) {
    const jobPage = await open(`${ui.url}#/app/${appId}/job/${row.jobId}`);
    const boxes = await datasets(jobPage, '#dag g.stage');
    const edges = await datasets(jobPage, '#dag line.edge');
    await jobPage.close();
    expect(boxes).toHaveLength(Number(row.stages));
    jobs.push({
      jobId: Number(row.jobId),
      hidden: row.hidden === 'true',
      stages: boxes.map((b) => ({
        stageId: Number(b.stage),
        partitions: Number(b.partitions),
        skipped: b.class!.split(' ').includes('skipped'),
        parents: edges.filter((e) => e.to === b.stage).map((e) => Number(e.from)),
      })),
    });
  }
  return { slots, jobs, stageRows };
}

/** Run `run(driver)` as one application with its event log in the UI's folder; returns its summary. */
async function runApplication(name: string, run: (driver: Driver) => Promise<unknown>): Promise<RunSummary> {
  const summary = new RunSummaryBuilder();
  const driver = await Driver.connect({
    connectionString: fabric.connectionString,
    taskQueue: fabric.queue,
    name,
    eventLog: { localDir: logDir },
    listeners: [summary],
    log: () => undefined,
  });
  try {
    await run(driver);
  } finally {
    await driver.close();
  }
  return summary.summary();
}

/** Explain, run, look at the UI; all three must give the same shape. */
async function agree(explanations: readonly Explanation[], s: RunSummary): Promise<void> {
  const explained = explainedShape(explanations);
  expect(explained.slots).toBe(fabric.totalSlots);
  expect(summaryShape(s)).toEqual(explained);
  const shown = await uiShape(s.appId);
  expect({ slots: shown.slots, jobs: shown.jobs }).toEqual(explained);
  // The stages table lists every stage of every job with its partitions, skipped ones too.
  const expectedRows = explained.jobs.flatMap((j) =>
    j.stages.map((st) => ({ stageId: st.stageId, partitions: st.partitions, skipped: st.skipped })),
  );
  expect(
    shown.stageRows.map((r) => ({
      stageId: Number(r.stageId),
      partitions: Number(r.partitions),
      skipped: r.skipped === 'true',
    })),
  ).toEqual(expectedRows.sort((a, b) => a.stageId - b.stageId));
}

describe('explain, the run summary and the UI agree on every example', () => {
  const modules: [string, Record<string, unknown>][] = [
    ['wordcount.ts', { input: path.join(EXAMPLES, 'data', '*.txt') }],
    ['join.ts', { orders: 300 }],
    ['sort.ts', { records: 2000, partitions: 4 }],
    ['orders.ts', { orders: 300 }],
    ['pagerank-links.ts', { pages: 30, partitions: 3 }],
  ];
  for (const [file, params] of modules) {
    it(`${file}: the same slots, jobs, stages per job and partitions per stage`, async () => {
      const module = path.join(EXAMPLES, file);
      const explained = await explainModule(module, params, { slots: plannedSlots });
      const s = await runApplication(file, (driver) => driver.run(module, params as never));
      expect(s.status).toBe('succeeded');
      await agree([explained], s);
    }, 180_000);
  }

  it('pagerank-driver.ts: the links run, one run of pagerank.ts per iteration and the top run, as explain plans them', async () => {
    const iterations = 2;
    const partitions = 3;
    // Explain plans from the graph alone: a handle's blobs are never read, only its partitioning.
    const handle = {
      kind: 'stratus-dataset-handle',
      appId: 'app-explain',
      id: 'app-explain/run-0/node-0',
      blobs: Array.from({ length: partitions }, (_, i) => `explain/part-${i}`),
      hashPartitions: partitions,
      records: 0,
    };
    const links = await explainModule(
      path.join(EXAMPLES, 'pagerank-links.ts'),
      { pages: 30, partitions },
      {
        slots: plannedSlots,
      },
    );
    const step = await explainModule(
      path.join(EXAMPLES, 'pagerank.ts'),
      { links: handle, ranks: handle, partitions },
      { slots: plannedSlots },
    );
    const top = await explainModule(
      path.join(EXAMPLES, 'pagerank-top.ts'),
      { ranks: handle, n: 10 },
      {
        slots: plannedSlots,
      },
    );
    const s = await runApplication('pagerank-driver.ts', (driver) =>
      pagerankDriver.main(driver, { pages: 30, tolerance: 0, maxIterations: iterations, partitions }),
    );
    expect(new Set(s.jobs.map((j) => j.run)).size).toBe(iterations + 2);
    await agree([links, ...Array.from({ length: iterations }, () => step), top], s);
  }, 300_000);
});
