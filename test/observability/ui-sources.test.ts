/**
 * Where `stratus ui` finds applications, through its JSON API: a log file that is still empty
 * (the application appears once written), a file that several runs appended to (each listed
 * on its own), a folder of logs (`.stratus/event-logs`) with one still being written, and an
 * application held by two sources listed once.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLogWriter } from '../../driver/observe/event-log.js';
import type { RunEvent } from '../../driver/observe/run-events.js';
import { startUiServer, type UiServer, type UiSource } from '../../driver/observe/ui/server.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { waitFor } from '../helpers/processes.js';

let dir: string;
const servers: UiServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-ui-sources-'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function serve(source: UiSource | UiSource[]): Promise<string> {
  const server = await startUiServer({ port: 0, source });
  servers.push(server);
  return server.url;
}

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

let counter = 0;
/** A run of `jobs` one-stage jobs of `tasks` tasks each; `ended` adds the app-end. */
function run(jobs: number, tasks: number, ended = true): { appId: string; events: RunEvent[] } {
  const appId = `app-${Date.now().toString(36)}-${(++counter).toString(16).padStart(8, '0')}`;
  const events: RunEvent[] = [
    {
      type: 'app-start',
      at: 1000 + counter,
      logVersion: 1,
      appId,
      name: `run-${counter}.ts`,
      mode: 'local',
      taskQueue: 'q',
      totalSlots: 2,
      defaultParallelism: 2,
    },
  ];
  for (let jobId = 0; jobId < jobs; jobId++) {
    const common = { appId, jobId };
    events.push({
      ...common,
      type: 'job-start',
      at: 2000,
      action: 'count',
      actionName: 'result',
      hidden: false,
      stageIds: [jobId],
      skippedStageIds: [],
    });
    events.push({
      ...common,
      type: 'stage-submitted',
      at: 2001,
      stageId: jobId,
      kind: 'result',
      name: 'parallelize',
      numTasks: tasks,
      parentStageIds: [],
    });
    for (let partition = 0; partition < tasks; partition++) {
      const base = { ...common, stageId: jobId, partition, attempt: 0, executorId: 'executor-1', slot: 0 };
      events.push({ ...base, type: 'task-start', at: 2002, launchedAt: 2001 });
      events.push({ ...base, type: 'task-end', at: 2003, launchedAt: 2001, status: 'succeeded' });
    }
    events.push({ ...common, type: 'stage-completed', at: 2004, stageId: jobId, status: 'succeeded' });
    events.push({ ...common, type: 'job-end', at: 2005, status: 'succeeded' });
  }
  if (ended) events.push({ type: 'app-end', at: 3000, appId, status: 'succeeded' });
  return { appId, events };
}

async function write(events: readonly RunEvent[], options: ConstructorParameters<typeof EventLogWriter>[0]) {
  const writer = new EventLogWriter(options);
  for (const e of events) writer.onEvent(e);
  await writer.close();
}

type Listing = { appId: string; status: string; jobs: number; tasks: number };
const apps = async (url: string) => (await get(`${url}api/apps`)).body.apps as Listing[];

describe('stratus ui sources', () => {
  it('an empty log file lists nothing, and its application is found once its events are written', async () => {
    const file = path.join(dir, 'empty-then-written.jsonl');
    await writeFile(file, '');
    const url = await serve({ file });
    const { appId, events } = run(1, 3);
    expect(await apps(url)).toEqual([]);
    expect((await get(`${url}api/apps/${appId}`)).status).toBe(404);
    await write(events, { localFile: file });
    const found = await waitFor('the application to be served', async () => {
      const r = await get(`${url}api/apps/${appId}`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(found.summary).toMatchObject({ appId, status: 'succeeded', totals: { jobs: 1, tasks: 3 } });
  });

  it('a log file that two runs appended to lists both, each with only its own jobs and tasks', async () => {
    const file = path.join(dir, 'reused.jsonl');
    const first = run(1, 3);
    const second = run(2, 4);
    await write(first.events, { localFile: file });
    await write(second.events, { localFile: file });
    const url = await serve({ file });
    const listed = await apps(url);
    expect(listed.map((a) => [a.appId, a.jobs, a.tasks]).sort()).toEqual(
      [
        [first.appId, 1, 3],
        [second.appId, 2, 8],
      ].sort(),
    );
    const { body } = await get(`${url}api/apps/${second.appId}`);
    expect((body.summary as { jobs: unknown[] }).jobs).toHaveLength(2);
  });

  it('a folder of logs lists every application in it and follows one still being written', async () => {
    const folder = path.join(dir, 'event-logs');
    await mkdir(folder);
    const done = run(1, 2);
    const live = run(1, 5, false);
    await write(done.events, { localFile: path.join(folder, `${done.appId}.jsonl`) });
    const liveFile = path.join(folder, `${live.appId}.jsonl`);
    const writer = new EventLogWriter({ localFile: liveFile });
    for (const e of live.events) writer.onEvent(e);
    await writer.flush();
    const url = await serve({ dir: folder });
    const listed = await apps(url);
    expect(listed.map((a) => [a.appId, a.status]).sort()).toEqual(
      [
        [done.appId, 'succeeded'],
        [live.appId, 'running'],
      ].sort(),
    );
    writer.onEvent({ type: 'app-end', at: 4000, appId: live.appId, status: 'succeeded' });
    await writer.close();
    await waitFor('the live application to end', async () => {
      const r = await get(`${url}api/apps/${live.appId}`);
      return (r.body.summary as { status: string }).status === 'succeeded';
    });
  });

  it('an application in both a folder and an account is listed once', async () => {
    const folder = path.join(dir, 'both');
    const blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
    const { appId, events } = run(1, 2);
    await mkdir(folder);
    await write(events, { blobs, localFile: path.join(folder, `${appId}.jsonl`) });
    const url = await serve([{ dir: folder }, { blobs }]);
    expect((await apps(url)).filter((a) => a.appId === appId)).toHaveLength(1);
    expect((await get(`${url}api/apps/${appId}`)).status).toBe(200);
  });
});
