/**
 * The queue listener of the Functions storage extension, reproduced for the local host. Each rule
 * below cites the behaviour documented for the extension (host.json reference, "queues"; the
 * queue trigger's "poison messages" and "polling algorithm" sections) and its QueueListener /
 * QueueProcessor classes:
 * - receive up to batchSize messages with a 10-minute visibility lease, renewed at half time;
 * - fetch the next batch as soon as in-flight invocations drop to newBatchThreshold, so at most
 *   batchSize + newBatchThreshold run at once (the executor's slots);
 * - empty polls back off exponentially with jitter from 100 ms to maxPollingInterval;
 * - success deletes the message; failure makes it visible again after visibilityTimeout;
 * - failure at dequeueCount ≥ maxDequeueCount, a message received already past it, or a body
 *   that does not decode per messageEncoding moves it to `<queue>-poison` (created if needed);
 * - the trigger queue itself is never created by the listener;
 * - when the worker is killed, the invocations that got no response fail (failInFlight).
 *
 * One addition of the local host: a host starts whatever the state of its storage account (as a
 * Functions host does), so the local fabric spawns hosts while Azurite is still starting. Before
 * its first poll the listener waits, bounded, for the queue endpoint to answer any HTTP request
 * (a probe every minPollMs without the SDK's retries), so its first poll does not sit in SDK
 * retry delays or a grown backoff when storage comes up a moment after the host.
 */

import type { HostVerboseLine } from '../../contract/local-host-process.js';
import { poisonQueueName } from '../../contract/names.js';
import type { QueueTriggerOptions } from '../../contract/queue-trigger-options.js';
import type { StorageConnection } from '../../storage/connection.js';
import { type ReceivedMessage, StorageQueue } from '../../storage/queues.js';
import { PollingBackoff } from './backoff.js';
import type { InvocationOutcome, QueueDelivery } from './invoker.js';
import { MessageLease } from './message-lease.js';

/** Listener timings; the defaults are the storage extension's, tests shorten them. */
export interface ListenerTimings {
  /** Visibility lease of a received message (the extension uses 10 minutes). */
  leaseSeconds: number;
  /** First backoff step after an empty poll (the extension uses 100 ms). */
  minPollMs: number;
}

/** What the listener needs: where to listen, how, and what to run per message. */
export interface QueueListenerConfig {
  connection: StorageConnection;
  queueName: string;
  options: QueueTriggerOptions;
  timings: ListenerTimings;
  invoke: (delivery: QueueDelivery) => Promise<InvocationOutcome>;
  /** Verbose stdout lines (only called when verbose output is on). */
  line?: (line: HostVerboseLine) => void;
  warn: (text: string) => void;
}

/** How long the listener waits for the queue endpoint to answer before polling regardless. */
export const STORAGE_WAIT_MS = 60_000;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decode a body per messageEncoding; undefined when it is not valid base64. */
export function decodeBody(
  text: string,
  encoding: QueueTriggerOptions['messageEncoding'],
): string | undefined {
  if (encoding === 'none') return text;
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64').toString('utf8');
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** One listener on one trigger queue; `run()` resolves after `stop()` once in-flight work is done. */
export class QueueListener {
  private readonly queue: StorageQueue;
  private readonly poison: StorageQueue;
  private readonly backoff: PollingBackoff;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private wake: (() => void) | undefined;
  private poisonQueueReady = false;
  private warnedMissingQueue = false;
  private killWorker: ((outcome: InvocationOutcome) => void) | undefined;
  /** Resolves (failed) when the worker is killed: every invocation still running ends with it. */
  private readonly workerKilled = new Promise<InvocationOutcome>((resolve) => {
    this.killWorker = resolve;
  });

  constructor(private readonly config: QueueListenerConfig) {
    this.queue = new StorageQueue(config.connection, config.queueName);
    this.poison = new StorageQueue(config.connection, poisonQueueName(config.queueName));
    const min = Math.min(config.timings.minPollMs, config.options.maxPollingIntervalMs);
    this.backoff = new PollingBackoff(min, config.options.maxPollingIntervalMs);
  }

  /** Invocations currently running. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Stop fetching; `run()` resolves once the in-flight invocations have ended and been settled. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /**
   * The worker process was killed (its terminate grace ran out): fail every invocation still
   * running, as the host's `TryFailExecutions` does, so each message is settled as a failure —
   * visible again, or poisoned at maxDequeueCount — instead of waiting out its lease. Whatever
   * the invocations return later is ignored. Returns how many were failed.
   */
  failInFlight(error: Error): number {
    this.killWorker?.({ ok: false, error });
    return this.inFlight.size;
  }

  /**
   * Wait until the queue endpoint answers an HTTP request (any status: the service is up), a
   * probe every minPollMs, for at most STORAGE_WAIT_MS; after that the polls below report what fails.
   */
  private async waitForStorage(): Promise<void> {
    const url = this.config.connection.queueService.url;
    const deadline = Date.now() + STORAGE_WAIT_MS;
    let warned = false;
    while (!this.stopping && Date.now() < deadline) {
      try {
        const response = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(2_000) });
        await response.body?.cancel();
        return;
      } catch {
        if (!warned) {
          this.config.warn(`storage at ${this.config.connection.description} does not answer yet; waiting`);
          warned = true;
        }
      }
      await this.sleep(this.config.timings.minPollMs);
    }
  }

  /** Poll until stopped, then wait for in-flight invocations. */
  async run(): Promise<void> {
    const { options } = this.config;
    await this.waitForStorage();
    let queueExists = false;
    let foundSinceLastDelay = false;
    while (!this.stopping) {
      if (!queueExists) {
        // The listener checks that the queue exists and never creates it (the driver or the deployment does).
        queueExists = await this.queue.exists().catch((error: unknown) => {
          this.config.warn(`cannot check queue ${this.config.queueName}: ${String(error)}`);
          return false;
        });
        if (!queueExists) {
          if (!this.warnedMissingQueue) {
            this.config.warn(
              `trigger queue ${this.config.queueName} does not exist yet; polling with backoff`,
            );
            this.warnedMissingQueue = true;
          }
          await this.sleep(this.backoff.next(false));
          continue;
        }
      }
      let batch: ReceivedMessage[];
      try {
        batch = await this.queue.receive(options.batchSize, this.config.timings.leaseSeconds);
      } catch (error) {
        // Any storage error resets the existence check, then the listener backs off.
        queueExists = false;
        this.config.warn(`receive from ${this.config.queueName} failed: ${String(error)}`);
        await this.sleep(this.backoff.next(false));
        continue;
      }
      this.config.line?.({
        event: 'poll',
        at: Date.now(),
        received: batch.length,
        inFlight: this.inFlight.size,
      });
      if (batch.length === 0) {
        await this.sleep(this.backoff.next(foundSinceLastDelay));
        foundSinceLastDelay = false;
        continue;
      }
      foundSinceLastDelay = true;
      for (const message of batch) {
        const processing: Promise<void> = this.process(message).finally(() => {
          this.inFlight.delete(processing);
          this.wake?.();
        });
        this.inFlight.add(processing);
      }
      // A new batch is fetched as soon as in-flight work drops to newBatchThreshold.
      while (!this.stopping && this.inFlight.size > options.newBatchThreshold) await this.sleep(Infinity);
    }
    await Promise.all(this.inFlight);
  }

  /** Sleep `ms` or until woken (a message finished, or stop). */
  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private async process(message: ReceivedMessage): Promise<void> {
    const { options } = this.config;
    try {
      // A body that does not decode per messageEncoding goes straight to the poison queue.
      const body = decodeBody(message.text, options.messageEncoding);
      if (body === undefined) return await this.moveToPoison(message, message.popReceipt, 'not valid base64');
      // A message delivered more often than maxDequeueCount is poisoned without running the function.
      if (message.dequeueCount > options.maxDequeueCount) {
        return await this.moveToPoison(message, message.popReceipt, 'received past maxDequeueCount');
      }
      const lease = new MessageLease(this.queue, message, this.config.timings.leaseSeconds, this.config.warn);
      let outcome: InvocationOutcome;
      try {
        const invocation = this.config.invoke({
          messageId: message.messageId,
          popReceipt: message.popReceipt,
          dequeueCount: message.dequeueCount,
          insertedOn: message.insertedOn,
          expiresOn: message.expiresOn,
          nextVisibleOn: message.nextVisibleOn,
          body,
        });
        outcome = await Promise.race([invocation, this.workerKilled]);
      } finally {
        await lease.stop();
      }
      const current = { messageId: message.messageId, popReceipt: lease.popReceipt };
      if (outcome.ok) return await this.settle(() => this.queue.delete(current), message, 'delete');
      if (message.dequeueCount >= options.maxDequeueCount) {
        return await this.moveToPoison(message, lease.popReceipt, 'failed at maxDequeueCount');
      }
      // Failure: visible again after visibilityTimeout, for this or another executor to retry.
      const seconds = Math.round(options.visibilityTimeoutMs / 1000);
      await this.settle(() => this.queue.updateVisibility(current, seconds), message, 'release');
    } catch (error) {
      this.config.warn(`processing message ${message.messageId} failed: ${String(error)}`);
    }
  }

  /** Copy the original wire text to `<queue>-poison` (creating it if needed), then delete the message. */
  private async moveToPoison(message: ReceivedMessage, popReceipt: string, reason: string): Promise<void> {
    if (!this.poisonQueueReady) {
      await this.poison.ensure();
      this.poisonQueueReady = true;
    }
    await this.poison.send(message.text);
    this.config.warn(
      `message ${message.messageId} (dequeueCount ${message.dequeueCount}) moved to ${this.poison.name}: ${reason}`,
    );
    this.config.line?.({
      event: 'poison',
      at: Date.now(),
      messageId: message.messageId,
      dequeueCount: message.dequeueCount,
      reason,
    });
    await this.settle(
      () => this.queue.delete({ messageId: message.messageId, popReceipt }),
      message,
      'delete',
    );
  }

  /** Run a delete/release; a pop-receipt mismatch or a gone message means someone else owns it now. */
  private async settle(
    action: () => Promise<unknown>,
    message: ReceivedMessage,
    what: string,
  ): Promise<void> {
    try {
      await action();
    } catch (error) {
      const status = statusOf(error);
      if (status === 400 || status === 404 || status === 409) {
        this.config.warn(
          `${what} of message ${message.messageId} skipped: it is no longer ours (HTTP ${status})`,
        );
        return;
      }
      throw error;
    }
  }
}
