/**
 * Cleanup: `driver.close()` leaves nothing of the application in storage — no blob under
 * `stratus-data/apps/<appId>/`, no events queue — even after a run with a retried task and a
 * speculative copy whose losing original is still running when the driver closes, and writes
 * its map output afterwards.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appPrefix, DATA_CONTAINER, eventsQueueName } from '../../contract/names.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { connectDriver, type E2EFabric, RecordingListener, startE2E } from '../helpers/e2e.js';
import { waitFor } from '../helpers/processes.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
let dir: string;

beforeAll(async () => {
  e2e = await startE2E({
    label: 'cleanup',
    executors: 2,
    slots: 2,
    // Executors re-read the lease only every 10 minutes here, so they do not stop the straggler
    // (test/faults/stop-attempts.test.ts covers stopping): these tests prove the safety net
    // for an attempt that finishes late anyway.
    hostEnv: { STRATUS_LEASE_CHECK_MS: '600000' },
  });
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-cleanup-'));
});

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('cleanup at close', () => {
  it('after close no blob under apps/<appId>/ remains and the events queue is gone, late attempts included', async () => {
    const storage = connectStorage({ connectionString: e2e.fabric.connectionString });
    const blobs = new BlobStore(storage);
    const events = new RecordingListener();
    const driver = await connectDriver(e2e.fabric, { listeners: [events] });
    const { appId } = driver;
    const tasks = 8;
    const result = (await driver.run(path.join(JOBS, 'retry-and-straggle.ts'), {
      tasks,
      // Long enough that, even on a loaded machine, the other tasks finish and a speculative
      // copy starts and wins while the original still sleeps.
      slowMs: 20_000,
      failOnce: 3,
      markers: dir,
    })) as [number, number][];
    const expected = new Map<number, number>();
    for (let i = 0; i < tasks; i++) expected.set(i % 3, (expected.get(i % 3) ?? 0) + i);
    expect(new Map(result)).toEqual(expected);
    // The run had a retry and a speculative copy that won …
    const ends = events.of('task-end');
    expect(ends.some((t) => t.partition === 3 && t.status === 'failed')).toBe(true);
    // Whichever of the two attempts reached the map first sleeps (on a cold thread the copy can
    // overtake the original), so the other one wins; either way one of them won and one lost.
    expect(ends.some((t) => t.partition === 0 && t.speculative)).toBe(true);
    expect(ends.filter((t) => t.partition === 0 && t.stageId === 0 && t.status === 'succeeded')).toHaveLength(
      1,
    );
    // … while it wrote blobs of its own under the application's prefix.
    expect((await blobs.list(DATA_CONTAINER, appPrefix(appId))).length).toBeGreaterThan(0);

    await driver.close();
    // The losing original is still running: it will write its map output after the close.
    expect(existsSync(path.join(dir, 'straggler-done'))).toBe(false);
    expect(await blobs.list(DATA_CONTAINER, appPrefix(appId))).toEqual([]);
    expect(await new StorageQueue(storage, eventsQueueName(appId)).exists()).toBe(false);

    // Once it has finished and its executor dropped it, still nothing is left.
    await waitFor('the straggler to finish', () => existsSync(path.join(dir, 'straggler-done')), 45_000);
    const dropped = await waitFor('the executor to drop the late attempt', () =>
      e2e.fabric.executors
        .map((e) => e.stderrTail())
        .join('\n')
        .split('\n')
        .find((l) => /-p0-a\d+ \(/.test(l) && l.includes(': dropped: ') && l.includes(appId)),
    );
    expect(await blobs.list(DATA_CONTAINER, appPrefix(appId))).toEqual([]);
    expect(dropped).toContain('discarded the 1 blob(s) it wrote');
  }, 150_000);
});
