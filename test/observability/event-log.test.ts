/**
 * The event log: JSON lines appended in batches to `stratus-logs/<appId>.jsonl` in Azurite and
 * to a local file, read back and validated line by line; a bad line is named by its number.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGS_CONTAINER } from '../../contract/names.js';
import {
  EventLogFormatError,
  EventLogTail,
  EventLogWriter,
  eventLogBlobName,
  listApplications,
  readEventLog,
} from '../../driver/observe/event-log.js';
import type { RunEvent } from '../../driver/observe/run-events.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { suiteConnectionString } from '../helpers/fabric.js';

let blobs: BlobStore;
let dir: string;

beforeAll(async () => {
  blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-eventlog-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
function syntheticRun(tasks: number): { appId: string; events: RunEvent[] } {
  const appId = `app-test-${process.pid}-${++counter}-${Date.now().toString(36)}`;
  const events: RunEvent[] = [
    {
      type: 'app-start',
      at: 1,
      logVersion: 1,
      appId,
      name: 'log.ts',
      mode: 'local',
      taskQueue: 'q',
      totalSlots: 2,
      defaultParallelism: 2,
    },
    {
      type: 'job-start',
      at: 2,
      appId,
      jobId: 0,
      action: 'count',
      actionName: 'result',
      hidden: false,
      stageIds: [0],
      skippedStageIds: [],
    },
    {
      type: 'stage-submitted',
      at: 3,
      appId,
      jobId: 0,
      stageId: 0,
      kind: 'result',
      name: 'parallelize',
      numTasks: tasks,
      parentStageIds: [],
    },
  ];
  for (let p = 0; p < tasks; p++) {
    const base = {
      appId,
      jobId: 0,
      stageId: 0,
      partition: p,
      attempt: 0,
      executorId: `executor-${(p % 2) + 1}`,
      slot: p % 2,
      launchedAt: 4,
    };
    events.push({ ...base, type: 'task-start', at: 5, speculative: false });
    events.push({ ...base, type: 'task-end', at: 6, startedAt: 5, status: 'succeeded', speculative: false });
  }
  events.push({ type: 'stage-completed', at: 7, appId, jobId: 0, stageId: 0, status: 'succeeded' });
  events.push({ type: 'job-end', at: 8, appId, jobId: 0, status: 'succeeded' });
  events.push({ type: 'app-end', at: 9, appId, status: 'succeeded' });
  return { appId, events };
}

describe('the event log', () => {
  it('round-trips a run through an append blob in stratus-logs and a local file', async () => {
    const { appId, events } = syntheticRun(100);
    const file = path.join(dir, `${appId}.jsonl`);
    const writer = new EventLogWriter({ blobs, localFile: file });
    for (const e of events) writer.onEvent(e);
    await writer.close();
    expect(writer.blobName).toBe(`${appId}.jsonl`);
    expect(await readEventLog({ blobs, appId })).toEqual(events);
    expect(await readEventLog({ file })).toEqual(events);
    // 206 events emitted at once: batched into a few appends, never one per event.
    expect(writer.blobAppends).toBeGreaterThanOrEqual(1);
    expect(writer.blobAppends).toBeLessThanOrEqual(Math.ceil(events.length / 64));
    expect(writer.eventsWritten).toBe(events.length);
  });

  it('appends a trickle of events at most every flush interval, and everything on close', async () => {
    const { appId, events } = syntheticRun(2);
    const writer = new EventLogWriter({ blobs, flushIntervalMs: 200 });
    for (const e of events.slice(0, 3)) writer.onEvent(e);
    expect(await blobs.exists(LOGS_CONTAINER, eventLogBlobName(appId))).toBe(false);
    await writer.flush();
    expect(await readEventLog({ blobs, appId })).toEqual(events.slice(0, 3));
    for (const e of events.slice(3)) writer.onEvent(e);
    await writer.close();
    expect(await readEventLog({ blobs, appId })).toEqual(events);
    expect(writer.blobAppends).toBe(2);
  });

  it('appends as soon as 64 events are waiting, without waiting for the interval', async () => {
    const { appId, events } = syntheticRun(40);
    const writer = new EventLogWriter({ blobs, flushIntervalMs: 60_000 });
    for (const e of events.slice(0, 63)) writer.onEvent(e);
    await new Promise((r) => setTimeout(r, 50));
    expect(writer.blobAppends).toBe(0);
    writer.onEvent(events[63]!);
    const deadline = Date.now() + 10_000;
    while (writer.blobAppends === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await readEventLog({ blobs, appId })).toEqual(events.slice(0, 64));
    await writer.close();
  });

  it('lists the applications that have an event log, newest first', async () => {
    const { appId } = syntheticRun(1);
    const writer = new EventLogWriter({ blobs });
    writer.onEvent(syntheticRun(1).events[0]!);
    const own = { ...syntheticRun(1).events[0]!, appId } as RunEvent;
    const second = new EventLogWriter({ blobs });
    second.onEvent(own);
    await Promise.all([writer.close(), second.close()]);
    const listed = await listApplications(blobs);
    expect(listed.map((l) => l.appId)).toContain(appId);
    const ids = listed.map((l) => l.appId);
    expect(ids).toEqual([...ids].sort().reverse());
  });

  it('names the line of a log that is not a valid run event', async () => {
    const { events } = syntheticRun(1);
    const file = path.join(dir, 'bad.jsonl');
    const bad = { ...events[2]!, numTasks: -1 };
    await writeFile(file, [events[0], events[1], bad].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const error = await readEventLog({ file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventLogFormatError);
    expect((error as Error).message).toMatch(/bad\.jsonl: line 3 is not a valid run event: numTasks: /);
  });

  it('names a line that is not JSON, and an event type it does not know', async () => {
    const file = path.join(dir, 'garbage.jsonl');
    await writeFile(file, '{"type":"app-end","at":1,"appId":"a","status":"succeeded"}\n{"type":"app-e\n');
    await expect(readEventLog({ file })).rejects.toThrow(
      /garbage\.jsonl: line 2 is not a valid run event: not JSON/,
    );
    await writeFile(file, '\n{"type":"task-exploded","at":1,"appId":"a"}\n');
    await expect(readEventLog({ file })).rejects.toThrow(/line 2 is not a valid run event/);
  });

  it('a tail reads only the complete lines appended since its last poll', async () => {
    const { events } = syntheticRun(1);
    const file = path.join(dir, 'tail.jsonl');
    const lines = events.map((e) => JSON.stringify(e));
    await writeFile(file, `${lines[0]}\n${lines[1]!.slice(0, 10)}`);
    const tail = new EventLogTail({ file });
    expect((await tail.poll()).events).toEqual([events[0]]);
    await writeFile(file, `${lines.join('\n')}\n`);
    expect((await tail.poll()).events).toEqual(events.slice(1));
    expect(await tail.poll()).toEqual({ events: [], grew: false });
    expect((await readFile(file, 'utf8')).split('\n').length).toBe(events.length + 1);
  });
});
