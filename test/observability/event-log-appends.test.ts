/**
 * Event-log appends as Azurite sees them, counted at a pass-through proxy: the append blob is
 * created once, then each flush is one append request; an append whose response is lost is
 * retried by the SDK without writing its lines twice; and a writer never appends blindly after
 * someone else changed its blob.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGS_CONTAINER } from '../../contract/names.js';
import { EventLogWriter, readEventLog } from '../../driver/observe/event-log.js';
import type { RunEvent } from '../../driver/observe/run-events.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { RequestCounter } from '../../storage/testing/request-counter.js';
import { suiteConnectionString } from '../helpers/fabric.js';

let counter: RequestCounter;
let blobs: BlobStore;

beforeAll(async () => {
  counter = await RequestCounter.startFor(suiteConnectionString());
  blobs = new BlobStore(connectStorage({ connectionString: counter.connectionString }));
  await blobs.ensureContainers([LOGS_CONTAINER]);
});
afterAll(async () => {
  await counter?.stop();
});

let n = 0;
function notices(count: number): { appId: string; events: RunEvent[] } {
  const appId = `app-appends-${process.pid}-${++n}-${Date.now().toString(36)}`;
  return {
    appId,
    events: Array.from({ length: count }, (_, i) => ({
      type: 'notice' as const,
      at: i,
      appId,
      level: 'info' as const,
      message: `event ${i}`,
    })),
  };
}

const LOG = 'event-log';
const kinds = () => counter.snapshot().byKind;

describe('event-log appends', () => {
  it('creates the append blob once, then costs one append request per flush', async () => {
    const { appId, events } = notices(9);
    const writer = new EventLogWriter({ blobs, flushIntervalMs: 60_000 });
    counter.reset();
    for (const [i, e] of events.entries()) {
      writer.onEvent(e);
      if (i % 3 === 2) await writer.flush();
    }
    await writer.close();
    expect(kinds()[`blob:put:${LOG}`]).toBe(1);
    expect(kinds()[`blob:put-appendblock:${LOG}`]).toBe(3);
    expect(kinds()[`blob:properties:${LOG}`]).toBeUndefined();
    expect(await readEventLog({ blobs, appId })).toEqual(events);
  });

  it('an append that landed but whose response was lost is not written twice', async () => {
    const { appId, events } = notices(5);
    const writer = new EventLogWriter({ blobs, flushIntervalMs: 60_000, onError: () => undefined });
    writer.onEvent(events[0]!);
    await writer.flush();
    counter.reset();
    counter.loseResponses(`blob:put-appendblock:${LOG}`);
    for (const e of events.slice(1)) writer.onEvent(e);
    await writer.flush();
    // The first try landed, the SDK's retry met the append-position condition (412), and the
    // writer found its own bytes in place.
    expect(kinds()[`blob:put-appendblock:${LOG}`]).toBe(2);
    expect(writer.eventsWritten).toBe(5);
    await writer.close();
    expect(await readEventLog({ blobs, appId })).toEqual(events);
  });

  it('refuses to append after someone else appended to its blob, and keeps its bytes', async () => {
    const name = `conflict-${process.pid}-${Date.now().toString(36)}.txt`;
    const mine = blobs.appendBlob(LOGS_CONTAINER, name);
    await mine.append('a\n');
    await blobs.appendBlob(LOGS_CONTAINER, name).append('b\n');
    const error = await mine.append('c\n').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'APPEND_CONFLICT' });
    expect(mine.pendingBytes).toBe(2);
    expect((await blobs.get(LOGS_CONTAINER, name)).toString()).toBe('a\nb\n');
  });
});
