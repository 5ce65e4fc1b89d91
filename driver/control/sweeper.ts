/**
 * Sweeps up after crashed drivers. `driver.close()` deletes its application's events queue and
 * `stratus-data/apps/<appId>/`; a driver that dies first leaves both behind, and queues have no
 * lifecycle rule (nor does anything on Azurite). An application counts as dead when its lease
 * (contract/app-lease.ts) expired more than a grace period ago, or — with no lease — when it was
 * started more than the grace period ago (app ids begin with their start time, and the events
 * queue is created at that moment). Anything else is left alone: a live application's lease is
 * at most a renewal old, and a name the sweeper cannot date is never touched.
 *
 * `stratus clean` sweeps the whole account; `Driver.connect` runs a bounded sweep (a few
 * requests, the oldest applications first, since app ids sort by start time).
 */
import { APP_LEASE_TTL_MS, AppLeaseSchema, appLeaseBlobName } from '../../contract/app-lease.js';
import { ConfigError } from '../../contract/errors.js';
import { appPrefix, DATA_CONTAINER, eventsQueueName } from '../../contract/names.js';
import { BlobNotFoundError, BlobStore } from '../../storage/blob-store.js';
import type { StorageConnection } from '../../storage/connection.js';
import { listQueueNames, StorageQueue } from '../../storage/queues.js';

/** Default grace period: an application is swept one hour after its lease expired. */
export const DEFAULT_SWEEP_GRACE_MS = 60 * 60_000;

/** Environment variable overriding the grace period, in minutes. */
export const SWEEP_GRACE_ENV = 'STRATUS_SWEEP_GRACE_MINUTES';

/**
 * The bounds of the sweep a Driver runs when it connects: two list requests, one lease read per
 * application examined, and at most this many blob deletions; `stratus clean` does the rest.
 */
export const CONNECT_SWEEP_LIMITS = { applications: 5, blobDeletes: 64 } as const;

/** What `sweepDeadApplications` may do. */
export interface SweepOptions {
  /** How long after its lease expired an application is swept (ms); default 1 h or STRATUS_SWEEP_GRACE_MINUTES. */
  graceMs?: number;
  /** Application ids never swept (a driver passes its own). */
  keep?: readonly string[];
  /** At most this many applications are examined, oldest first (default: all). */
  maxApplications?: number;
  /** At most this many blobs are deleted (default: all); an application cut short is finished next time. */
  maxBlobDeletes?: number;
  /** Report what would be removed without deleting anything. */
  dryRun?: boolean;
}

/** One dead application the sweep removed (or, in a dry run, would remove). */
export interface SweptApplication {
  appId: string;
  /** Why it counts as dead: `lease expired 3 h ago`, `no lease, started 2 h ago`. */
  reason: string;
  /** Its events queue existed and was deleted (dry run: exists). */
  eventsQueue: boolean;
  /** Blobs deleted under `stratus-data/apps/<appId>/` (dry run: there). */
  blobs: number;
  /** False when the blob budget ran out first; the next sweep continues. */
  complete: boolean;
}

/** What one sweep found and did. */
export interface SweepReport {
  removed: SweptApplication[];
  /** Applications left alone because they are alive, or dead for less than the grace period. */
  live: string[];
  /** Events queues or `apps/` folders with no lease and no start time in their name: never touched. */
  undated: string[];
  /** More applications exist than `maxApplications` allowed to examine. */
  more: boolean;
  graceMs: number;
}

const EVENTS_QUEUE_PREFIX = eventsQueueName('');
const APPS_PREFIX = appPrefix('x').slice(0, -'x/'.length);
/** `app-<start time, base 36 ms>-<8 hex digits>`, as Driver.connect names applications. */
const DATED_APP_ID = /^app-([0-9a-z]{1,11})-[0-9a-f]{8}$/;

/** When the application started, from its id; undefined for ids stratus did not make. */
export function appStartTime(appId: string): number | undefined {
  const m = DATED_APP_ID.exec(appId);
  if (!m) return undefined;
  const t = Number.parseInt(m[1]!, 36);
  return Number.isSafeInteger(t) ? t : undefined;
}

/** The grace period from STRATUS_SWEEP_GRACE_MINUTES, or the default; ConfigError when malformed. */
export function sweepGraceFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[SWEEP_GRACE_ENV]?.trim();
  if (!raw) return DEFAULT_SWEEP_GRACE_MS;
  const minutes = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(minutes)) {
    throw new ConfigError(`${SWEEP_GRACE_ENV}=${raw} must be a number of minutes ≥ 0`);
  }
  return minutes * 60_000;
}

/** `3 h 5 min`, `12 min`, `40 s`: an age for a report line. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const d = Math.floor(h / 24);
  if (d >= 2) return `${d} days`;
  return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
}

type Verdict = { dead: true; reason: string } | { dead: false; undated: boolean };

/**
 * Find the applications of the account whose drivers are gone and delete their events queues
 * and `apps/<appId>/` blobs. Never throws for one application's failure to delete; throws when
 * the account cannot be listed or a lease cannot be read (a lease it cannot read is not absent).
 */
export async function sweepDeadApplications(
  storage: StorageConnection,
  options: SweepOptions = {},
): Promise<SweepReport> {
  const graceMs = options.graceMs ?? sweepGraceFromEnv();
  if (!(graceMs >= 0)) throw new ConfigError(`the sweep's grace period must be ≥ 0 ms, got ${graceMs}`);
  const maxApps = options.maxApplications ?? Number.POSITIVE_INFINITY;
  let blobBudget = options.maxBlobDeletes ?? Number.POSITIVE_INFINITY;
  const blobs = new BlobStore(storage);
  const keep = new Set(options.keep ?? []);

  // Both listings return names in order, so with a bound the oldest applications come first.
  const [queues, folders] = await Promise.all([
    listQueueNames(storage, EVENTS_QUEUE_PREFIX, maxApps + keep.size),
    blobs.listFolders(DATA_CONTAINER, APPS_PREFIX, maxApps + keep.size),
  ]);
  const withQueue = new Set(queues.names.map((q) => q.slice(EVENTS_QUEUE_PREFIX.length)));
  const candidates = [
    ...new Set([...withQueue, ...folders.folders.map((f) => f.slice(APPS_PREFIX.length, -1))]),
  ]
    .filter((id) => id !== '' && !keep.has(id))
    .sort();
  const examined = candidates.slice(0, maxApps);
  const report: SweepReport = {
    removed: [],
    live: [],
    undated: [],
    more: queues.more || folders.more || candidates.length > examined.length,
    graceMs,
  };

  const now = Date.now();
  for (const appId of examined) {
    const verdict = await judge(blobs, appId, now, graceMs);
    if (!verdict.dead) {
      (verdict.undated ? report.undated : report.live).push(appId);
      continue;
    }
    if (options.dryRun) {
      const there = await blobs.list(DATA_CONTAINER, appPrefix(appId));
      report.removed.push({
        appId,
        reason: verdict.reason,
        eventsQueue: withQueue.has(appId),
        blobs: there.length,
        complete: true,
      });
      continue;
    }
    const queue = new StorageQueue(storage, eventsQueueName(appId));
    const queueDeleted = await queue.client.deleteIfExists();
    const { deleted, complete } = await blobs.deleteUnder(DATA_CONTAINER, appPrefix(appId), {
      max: blobBudget,
      last: appLeaseBlobName(appId),
    });
    blobBudget -= deleted;
    report.removed.push({
      appId,
      reason: verdict.reason,
      eventsQueue: queueDeleted.succeeded,
      blobs: deleted,
      complete,
    });
    if (blobBudget <= 0) {
      report.more ||= examined.indexOf(appId) < examined.length - 1 || !complete;
      break;
    }
  }
  return report;
}

/** Whether `appId` is dead: its lease, or with none its start time, is older than the grace. */
async function judge(blobs: BlobStore, appId: string, now: number, graceMs: number): Promise<Verdict> {
  let raw: Buffer | undefined;
  try {
    raw = await blobs.get(DATA_CONTAINER, appLeaseBlobName(appId));
  } catch (error) {
    if (!(error instanceof BlobNotFoundError)) throw error;
  }
  if (raw !== undefined) {
    const lease = parseLease(raw, appId);
    if (lease !== undefined) {
      const deadFor = now - lease.expiresAt;
      return deadFor > graceMs
        ? { dead: true, reason: `lease expired ${formatAge(deadFor)} ago` }
        : { dead: false, undated: false };
    }
  }
  // No (readable) lease: the driver crashed before writing it, or while deleting its blobs.
  const started = appStartTime(appId);
  if (started === undefined) return { dead: false, undated: true };
  // A lease is first written right after the start, valid for its TTL: count from its end.
  const deadFor = now - (started + APP_LEASE_TTL_MS);
  return deadFor > graceMs
    ? { dead: true, reason: `no lease, started ${formatAge(now - started)} ago` }
    : { dead: false, undated: false };
}

function parseLease(raw: Buffer, appId: string): { expiresAt: number } | undefined {
  try {
    const lease = AppLeaseSchema.parse(JSON.parse(raw.toString('utf8')));
    return lease.appId === appId ? lease : undefined;
  } catch {
    return undefined; // a lease we cannot read is judged by the app's start time instead
  }
}
