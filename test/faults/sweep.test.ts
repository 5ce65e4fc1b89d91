/**
 * The sweep after crashed drivers (driver/control/sweeper.ts): an application whose lease expired
 * more than the grace period ago — or that has no lease and started longer ago than that — loses
 * its events queue and `apps/<appId>/` blobs; live, recent and foreign ones are never touched.
 * Against an Azurite of its own: the suite's is shared with tests whose drivers connect and
 * sweep too, and whose applications this file must not see.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_LEASE_TTL_MS, type AppLease, appLeaseBlobName } from '../../contract/app-lease.js';
import { appPrefix, DATA_CONTAINER, eventsQueueName } from '../../contract/names.js';
import { Driver } from '../../driver/app/driver.js';
import { appStartTime, sweepDeadApplications } from '../../driver/control/sweeper.js';
import { type AzuriteHandle, startAzurite } from '../../driver/fabric/azurite.js';
import type { RunEvent } from '../../driver/observe/run-events.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage, type StorageConnection } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { runBuiltCli } from '../helpers/dist.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let azurite: AzuriteHandle;
let storage: StorageConnection;
let blobs: BlobStore;

beforeAll(async () => {
  azurite = await startAzurite();
  storage = connectStorage({ connectionString: azurite.connectionString });
  blobs = new BlobStore(storage);
  await blobs.ensureContainers([DATA_CONTAINER]);
});

afterAll(async () => {
  await azurite?.stop();
});

interface FakeApp {
  /** How long ago the application started (its id carries the time, as Driver.connect's do). */
  startedAgo: number;
  /** The lease: expired this long ago (negative: still valid), or none. */
  leaseExpiredAgo?: number;
  /** Blobs under apps/<appId>/ besides the lease. */
  blobs?: number;
  queue?: boolean;
  /** An id of the caller's instead of a dated one. */
  appId?: string;
}

/** Leave behind what a driver of this age and state would have; returns its app id. */
async function leaveApp(app: FakeApp): Promise<string> {
  const appId =
    app.appId ?? `app-${(Date.now() - app.startedAgo).toString(36)}-${randomBytes(4).toString('hex')}`;
  if (app.queue !== false) await new StorageQueue(storage, eventsQueueName(appId)).ensure();
  for (let i = 0; i < (app.blobs ?? 0); i++) {
    await blobs.put(DATA_CONTAINER, `${appPrefix(appId)}run-0/shuffle/0/map-${i}.bin`, `segment ${i}`);
  }
  if (app.leaseExpiredAgo !== undefined) {
    const lease: AppLease = { appId, expiresAt: Date.now() - app.leaseExpiredAgo, cancelledJobs: [] };
    await blobs.put(DATA_CONTAINER, appLeaseBlobName(appId), JSON.stringify(lease));
  }
  return appId;
}

async function leftovers(appId: string): Promise<{ queue: boolean; blobs: number }> {
  return {
    queue: await new StorageQueue(storage, eventsQueueName(appId)).exists(),
    blobs: (await blobs.list(DATA_CONTAINER, appPrefix(appId))).length,
  };
}

describe('sweeping up after crashed drivers', () => {
  it('reads the start time an application id carries, and none from an id stratus did not make', () => {
    expect(appStartTime(`app-${(1_700_000_000_000).toString(36)}-abcd1234`)).toBe(1_700_000_000_000);
    expect(appStartTime('custom-id')).toBeUndefined();
  });

  it('removes the events queue and blobs of an application whose lease expired long ago, and reports it', async () => {
    const dead = await leaveApp({ startedAgo: 5 * HOUR, leaseExpiredAgo: 2 * HOUR, blobs: 3 });
    const report = await sweepDeadApplications(storage);
    const swept = report.removed.find((a) => a.appId === dead);
    expect(swept).toEqual({
      appId: dead,
      reason: 'lease expired 2 h ago',
      eventsQueue: true,
      blobs: 4, // three segments and the lease
      complete: true,
    });
    expect(await leftovers(dead)).toEqual({ queue: false, blobs: 0 });
  });

  it('removes an application with no lease once it started longer ago than the grace', async () => {
    // A driver that crashed between creating its events queue and writing its first lease.
    const dead = await leaveApp({ startedAgo: 3 * HOUR });
    const report = await sweepDeadApplications(storage);
    expect(report.removed.find((a) => a.appId === dead)).toMatchObject({
      reason: 'no lease, started 3 h ago',
      eventsQueue: true,
      blobs: 0,
    });
    expect(await leftovers(dead)).toEqual({ queue: false, blobs: 0 });
  });

  it('never touches a live application, nor one dead or started for less than the grace', async () => {
    // Running for a day, its lease renewed a moment ago.
    const live = await leaveApp({ startedAgo: 24 * HOUR, leaseExpiredAgo: -APP_LEASE_TTL_MS, blobs: 2 });
    const recentlyDead = await leaveApp({ startedAgo: 2 * HOUR, leaseExpiredAgo: 50 * MINUTE, blobs: 2 });
    const starting = await leaveApp({ startedAgo: 0 });
    const report = await sweepDeadApplications(storage);
    const removed = report.removed.map((a) => a.appId);
    for (const app of [live, recentlyDead, starting]) expect(removed).not.toContain(app);
    expect(report.live).toEqual(expect.arrayContaining([live, recentlyDead, starting]));
    expect(await leftovers(live)).toEqual({ queue: true, blobs: 3 });
    expect(await leftovers(recentlyDead)).toEqual({ queue: true, blobs: 3 });
    expect(await leftovers(starting)).toEqual({ queue: true, blobs: 0 });
  });

  it('leaves queues and folders that no stratus driver named alone', async () => {
    const foreign = await leaveApp({ appId: 'lease-test-queue', startedAgo: 0, blobs: 1 });
    const report = await sweepDeadApplications(storage, { graceMs: 0 });
    expect(report.undated).toContain(foreign);
    expect(await leftovers(foreign)).toEqual({ queue: true, blobs: 1 });
  });

  it('with a shorter grace, sweeps what the default grace keeps', async () => {
    const app = await leaveApp({ startedAgo: HOUR, leaseExpiredAgo: 45 * MINUTE, blobs: 1 });
    expect((await sweepDeadApplications(storage)).live).toContain(app);
    const report = await sweepDeadApplications(storage, { graceMs: 30 * MINUTE });
    expect(report.removed.map((a) => a.appId)).toContain(app);
    expect(await leftovers(app)).toEqual({ queue: false, blobs: 0 });
  });

  it('stops at its blob budget with the lease left for last, and the next sweep finishes', async () => {
    const dead = await leaveApp({ startedAgo: 5 * HOUR, leaseExpiredAgo: 4 * HOUR, blobs: 6 });
    const first = await sweepDeadApplications(storage, { maxBlobDeletes: 4 });
    expect(first.removed.find((a) => a.appId === dead)).toMatchObject({ blobs: 4, complete: false });
    expect(first.more).toBe(true);
    const rest = await blobs.list(DATA_CONTAINER, appPrefix(dead));
    expect(rest.map((b) => b.name)).toContain(appLeaseBlobName(dead));
    expect(rest).toHaveLength(3);
    const second = await sweepDeadApplications(storage);
    expect(second.removed.find((a) => a.appId === dead)).toMatchObject({ blobs: 3, complete: true });
    expect(await leftovers(dead)).toEqual({ queue: false, blobs: 0 });
  });

  it('in a dry run, reports what it would remove and deletes nothing', async () => {
    const dead = await leaveApp({ startedAgo: 5 * HOUR, leaseExpiredAgo: 2 * HOUR, blobs: 2 });
    const report = await sweepDeadApplications(storage, { dryRun: true });
    expect(report.removed.find((a) => a.appId === dead)).toMatchObject({ eventsQueue: true, blobs: 3 });
    expect(await leftovers(dead)).toEqual({ queue: true, blobs: 3 });
    await sweepDeadApplications(storage);
  });

  it('runs when a Driver connects, says what it removed, and spares the live application and its own', async () => {
    const dead = await leaveApp({ startedAgo: 5 * HOUR, leaseExpiredAgo: 2 * HOUR, blobs: 2 });
    const live = await leaveApp({ startedAgo: 5 * HOUR, leaseExpiredAgo: -APP_LEASE_TTL_MS, blobs: 1 });
    let swept!: (event: RunEvent) => void;
    const notice = new Promise<RunEvent>((resolve) => {
      swept = resolve;
    });
    const driver = await Driver.connect({
      connectionString: azurite.connectionString,
      totalSlots: 1,
      eventLog: false,
      listeners: [
        {
          onEvent: (event) => {
            if (event.type === 'notice' && event.message.startsWith('swept')) swept(event);
          },
        },
      ],
    });
    try {
      const event = await notice;
      expect(event).toMatchObject({ level: 'info' });
      expect((event as { message: string }).message).toContain(
        `${dead} (lease expired 2 h ago; events queue, 3 blobs)`,
      );
      expect(await leftovers(dead)).toEqual({ queue: false, blobs: 0 });
      expect(await leftovers(live)).toEqual({ queue: true, blobs: 2 });
      expect((await leftovers(driver.appId)).queue).toBe(true);
    } finally {
      await driver.close();
    }
  });

  it('stratus clean --dry-run lists, then stratus clean removes, with --grace-minutes', async () => {
    const app = await leaveApp({ startedAgo: HOUR, leaseExpiredAgo: 45 * MINUTE, blobs: 1 });
    const run = async (...args: string[]) => {
      const cli = await runBuiltCli(['clean', '--connection-string', azurite.connectionString, ...args]);
      expect(cli).toMatchObject({ code: 0 });
      return cli.stdout.split('\n').filter((line) => line !== '');
    };
    const dry = await run('--grace-minutes', '30', '--dry-run');
    expect(dry).toContain(`would remove ${app}: events queue + 2 blobs (lease expired 45 min ago)`);
    expect(await leftovers(app)).toEqual({ queue: true, blobs: 2 });
    const kept = await run();
    expect(kept.some((l) => l.includes(app))).toBe(false);
    const removed = await run('--grace-minutes', '30');
    expect(removed).toContain(`removed ${app}: events queue + 2 blobs (lease expired 45 min ago)`);
    expect(removed.at(-1)).toMatch(/^removed \d+ dead application\(s\); left \d+ live or recent one\(s\)/);
    expect(await leftovers(app)).toEqual({ queue: false, blobs: 0 });
  });
});
