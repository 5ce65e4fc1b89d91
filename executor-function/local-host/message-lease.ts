/**
 * Keeps a received message invisible while its invocation runs, as the storage extension does:
 * the message is received with a 10-minute visibility lease and the lease is renewed when it is
 * halfway to expiring. A renewal that fails with a server error is retried sooner (the interval
 * halves, down to a floor of one minute or the normal interval if that is shorter); a pop-receipt
 * mismatch or a missing message means ownership is lost for good, so renewing stops.
 */
import type { ReceivedMessage, StorageQueue } from '../../storage/queues.js';

/** The storage extension's floor for speeded-up renewals. */
const MINIMUM_RENEWAL_MS = 60_000;

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** A renewing lease on one received message; `popReceipt` is always the current one. */
export class MessageLease {
  popReceipt: string;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly normalMs: number;
  private intervalMs: number;

  constructor(
    private readonly queue: StorageQueue,
    private readonly message: ReceivedMessage,
    private readonly leaseSeconds: number,
    private readonly warn: (text: string) => void,
  ) {
    this.popReceipt = message.popReceipt;
    this.normalMs = (leaseSeconds * 1000) / 2;
    this.intervalMs = this.normalMs;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.renewing = this.renew();
    }, this.intervalMs);
  }

  private async renew(): Promise<void> {
    try {
      const updated = await this.queue.updateVisibility(
        { messageId: this.message.messageId, popReceipt: this.popReceipt },
        this.leaseSeconds,
      );
      this.popReceipt = updated.popReceipt;
      this.intervalMs = this.normalMs;
    } catch (error) {
      const status = statusOf(error);
      if (status === 400 || status === 404 || status === 409) {
        this.warn(`lost the lease on message ${this.message.messageId} (HTTP ${status}); no longer renewing`);
        this.stopped = true;
        return;
      }
      this.intervalMs = Math.max(this.intervalMs / 2, Math.min(MINIMUM_RENEWAL_MS, this.normalMs));
      this.warn(
        `lease renewal of message ${this.message.messageId} failed, retrying in ${this.intervalMs} ms: ${String(error)}`,
      );
    }
    this.schedule();
  }

  /** Stop renewing; resolves once any renewal in progress has finished (so popReceipt is final). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.renewing;
  }
}
