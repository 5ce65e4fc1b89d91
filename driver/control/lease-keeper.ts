/**
 * Keeps an application's lease blob (contract/app-lease.ts) alive while the driver runs:
 * written at start, renewed every third of its TTL, and rewritten soon after what executors
 * must stop changes — an attempt killed, a stage ended, jobs cancelled. Executors read it to
 * drop and stop the tasks of cancelled jobs, of ended stages and applications, and losers.
 */
import {
  APP_LEASE_TTL_MS,
  type AppLeaseInput,
  appLeaseBlobName,
  type LeaseStage,
  MAX_LEASE_CANCELLED_JOBS,
} from '../../contract/app-lease.js';
import { DATA_CONTAINER } from '../../contract/names.js';
import { warnRedacted } from '../../contract/redaction.js';
import type { BlobStore } from '../../storage/blob-store.js';

/** The lease of one application. */
export class AppLeaseKeeper {
  private readonly cancelledJobs = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private lastWrite: Promise<void> = Promise.resolve();
  private rewriteScheduled = false;
  private stopped = false;
  /** Lease blob writes so far (renewals, changes, cancellations). */
  writes = 0;

  /**
   * @param runningStages what the scheduler runs now, with the attempts it killed; read at
   * every write, so each lease is one consistent snapshot.
   */
  constructor(
    private readonly blobs: BlobStore,
    private readonly appId: string,
    private readonly runningStages: () => LeaseStage[] = () => [],
  ) {}

  /** Write the lease now and keep renewing it until `stop`. */
  async start(): Promise<void> {
    await this.write();
    this.timer = setInterval(() => {
      this.write().catch((error: unknown) =>
        warnRedacted(`stratus: renewing the application lease failed: ${(error as Error).message}`),
      );
    }, APP_LEASE_TTL_MS / 3);
    this.timer.unref();
  }

  /**
   * What executors must stop has changed: rewrite the lease soon. Changes made in the same
   * turn of the event loop (a stage's losers, then the stage's end) share one write.
   */
  changed(): void {
    if (this.rewriteScheduled || this.stopped) return;
    this.rewriteScheduled = true;
    setImmediate(() => {
      this.rewriteScheduled = false;
      if (this.stopped) return;
      this.write().catch((error: unknown) =>
        warnRedacted(`stratus: rewriting the application lease failed: ${(error as Error).message}`),
      );
    });
  }

  /** Mark jobs cancelled and publish it at once. */
  async cancelJobs(jobIds: readonly number[]): Promise<void> {
    for (const id of jobIds) this.cancelledJobs.add(id);
    await this.write();
  }

  /** Stop renewing; the blob stays until `remove`. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.lastWrite.catch(() => undefined);
  }

  /**
   * Delete the lease blob (after `stop`): from then on executors drop this application's tasks
   * and discard what late attempts write. The driver removes it before the application's other
   * blobs, so that nothing an executor wrote while the lease existed escapes that cleanup.
   */
  async remove(): Promise<void> {
    await this.blobs.delete(DATA_CONTAINER, appLeaseBlobName(this.appId));
  }

  private write(): Promise<void> {
    // Serialize writes so an older lease never lands after a newer one; the snapshot is taken
    // when the write starts, so it is never older than the one before it.
    this.lastWrite = this.lastWrite
      .catch(() => undefined)
      .then(() => {
        const writtenAt = Date.now();
        const lease: AppLeaseInput = {
          appId: this.appId,
          expiresAt: writtenAt + APP_LEASE_TTL_MS,
          // Newest kept: the stages of older cancelled jobs have ended, which says as much.
          cancelledJobs: [...this.cancelledJobs].slice(-MAX_LEASE_CANCELLED_JOBS),
          writtenAt,
          runningStages: this.runningStages(),
        };
        this.writes++;
        return this.blobs.put(DATA_CONTAINER, appLeaseBlobName(this.appId), JSON.stringify(lease));
      });
    return this.lastWrite;
  }
}
