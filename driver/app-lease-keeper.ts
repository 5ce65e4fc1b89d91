/**
 * Keeps an application's lease blob (engine/app-lease.ts) alive while the driver runs:
 * written at start, renewed every third of its TTL, rewritten at once when jobs are
 * cancelled. Executors read it to drop tasks of cancelled jobs and of ended applications.
 */
import { APP_LEASE_TTL_MS, type AppLease, appLeaseBlobName } from '../engine/app-lease.js';
import { DATA_CONTAINER } from '../engine/names.js';
import type { BlobStore } from '../storage/blob-store.js';
import { warnRedacted } from '../storage/redaction.js';

/** The lease of one application. */
export class AppLeaseKeeper {
  private readonly cancelledJobs = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly blobs: BlobStore,
    private readonly appId: string,
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

  /** Mark jobs cancelled and publish it at once. */
  async cancelJobs(jobIds: readonly number[]): Promise<void> {
    for (const id of jobIds) this.cancelledJobs.add(id);
    await this.write();
  }

  /** Stop renewing; the blob stays until `remove`. */
  async stop(): Promise<void> {
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
    const lease: AppLease = {
      appId: this.appId,
      expiresAt: Date.now() + APP_LEASE_TTL_MS,
      cancelledJobs: [...this.cancelledJobs],
    };
    // Serialize writes so an older lease never lands after a newer one.
    this.lastWrite = this.lastWrite
      .catch(() => undefined)
      .then(() => this.blobs.put(DATA_CONTAINER, appLeaseBlobName(this.appId), JSON.stringify(lease)));
    return this.lastWrite;
  }
}
