/**
 * LeaseWatch: the executor's view of its applications' leases (contract/app-lease.ts), on the
 * main thread and shared by every slot of the instance. Before a stage task starts the runner
 * asks for its verdict; while it runs, one timer per instance re-reads the lease of each
 * application with running tasks and stops the attempts the driver no longer needs. Each
 * application's lease is read at most once per `cacheMs` per instance, however many of its
 * tasks run here: with N instances that is N / cacheMs reads of one blob, never one per task.
 */

import type { AppLease } from '../contract/app-lease.js';
import { AppLeaseSchema, appLeaseBlobName, type LeasedTask, leaseVerdict } from '../contract/app-lease.js';
import { DATA_CONTAINER } from '../contract/names.js';
import { redactSecrets } from '../contract/redaction.js';
import { BlobNotFoundError, type BlobStore } from '../storage/blob-store.js';

/** Default age after which an application's lease is read again (ms); `STRATUS_LEASE_CHECK_MS` overrides it. */
export const DEFAULT_LEASE_CHECK_MS = 2000;

/** A verdict to stop, as `leaseVerdict` gives it. */
export type StopVerdict = Extract<ReturnType<typeof leaseVerdict>, { run: false }>;

interface CachedLease {
  readAt: number;
  lease: AppLease | undefined;
  /** False until a read succeeded: a lease we could not read says nothing. */
  known: boolean;
}

interface Watched {
  task: LeasedTask;
  onStop: (verdict: StopVerdict) => void;
}

/** Leases of the applications whose tasks run on this instance. */
export class LeaseWatch {
  private readonly leases = new Map<string, CachedLease>();
  private readonly reads = new Map<string, Promise<CachedLease>>();
  private readonly watched = new Set<Watched>();
  private timer: NodeJS.Timeout | undefined;
  /** Lease blob reads so far (what watching costs). */
  readCount = 0;

  /**
   * @param cacheMs a lease younger than this is not read again; running tasks are checked every
   * half of it, so a stop takes effect at most 1.5 × cacheMs after the driver wrote it.
   */
  constructor(
    private readonly blobs: BlobStore,
    readonly cacheMs = DEFAULT_LEASE_CHECK_MS,
    /** Where a failed lease read is reported; the default writes `stratus executor: <line>` to stderr. */
    private readonly warn: (line: string) => void = (line) =>
      process.stderr.write(`stratus executor: ${redactSecrets(line)}\n`),
  ) {}

  /**
   * The verdict on `task` now. A lease that cannot be read (storage unavailable) lets the task
   * run: stopping work is an optimisation, and the driver decides winners regardless.
   */
  async verdict(task: LeasedTask): Promise<ReturnType<typeof leaseVerdict>> {
    const cached = await this.lease(task.appId);
    return cached.known ? leaseVerdict(cached.lease, task, Date.now()) : { run: true };
  }

  /**
   * Whether `appId` has ended (its lease is gone or expired), as far as a read within `cacheMs`
   * says; false when the lease cannot be read (nothing is known).
   */
  async hasEnded(appId: string): Promise<boolean> {
    const cached = await this.lease(appId);
    return cached.known && (cached.lease === undefined || cached.lease.expiresAt <= Date.now());
  }

  /**
   * Check `task` while it runs; `onStop` is called at most once, when its verdict says stop.
   * Returns the function that stops watching (call it when the task ends).
   */
  watch(task: LeasedTask, onStop: (verdict: StopVerdict) => void): () => void {
    const entry: Watched = { task, onStop };
    this.watched.add(entry);
    if (!this.timer) {
      this.timer = setInterval(() => void this.checkRunning(), Math.max(1, Math.floor(this.cacheMs / 2)));
      this.timer.unref();
    }
    return () => {
      this.watched.delete(entry);
      if (this.watched.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private async checkRunning(): Promise<void> {
    for (const entry of [...this.watched]) {
      const verdict = await this.verdict(entry.task);
      if (!verdict.run && this.watched.delete(entry)) entry.onStop(verdict);
    }
  }

  /** The lease of `appId`, read again when older than `cacheMs`; one read at a time per application. */
  private lease(appId: string): Promise<CachedLease> {
    const now = Date.now();
    const cached = this.leases.get(appId);
    if (cached && now - cached.readAt < this.cacheMs) return Promise.resolve(cached);
    let read = this.reads.get(appId);
    if (!read) {
      read = this.read(appId, cached).finally(() => this.reads.delete(appId));
      this.reads.set(appId, read);
    }
    return read;
  }

  private async read(appId: string, previous: CachedLease | undefined): Promise<CachedLease> {
    this.forgetOldLeases();
    this.readCount++;
    let entry: CachedLease;
    try {
      const text = (await this.blobs.get(DATA_CONTAINER, appLeaseBlobName(appId))).toString('utf8');
      const parsed = AppLeaseSchema.safeParse(JSON.parse(text));
      entry = { readAt: Date.now(), lease: parsed.success ? parsed.data : undefined, known: true };
    } catch (error) {
      if (error instanceof BlobNotFoundError) {
        entry = { readAt: Date.now(), lease: undefined, known: true };
      } else {
        // Deliberately not fatal: keep what we knew and try again after cacheMs.
        this.warn(`cannot read the lease of ${appId}: ${(error as Error).message}`);
        entry = { readAt: Date.now(), lease: previous?.lease, known: previous?.known ?? false };
      }
    }
    this.leases.set(appId, entry);
    return entry;
  }

  /** Drop leases not read for a minute, so a long-lived instance does not keep every application's. */
  private forgetOldLeases(): void {
    const now = Date.now();
    for (const [appId, entry] of this.leases) {
      if (now - entry.readAt > 60_000) this.leases.delete(appId);
    }
  }
}
