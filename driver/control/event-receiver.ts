/**
 * Receives executor events from the application's events queue and hands them to the
 * scheduler. Events are hidden for a week when received instead of deleted one by one:
 * the queue belongs to this application alone and is deleted when it ends, which saves
 * one storage request per event (Azurite serves ~300 small requests/s here).
 */
import type { ExecutorEvent } from '../../contract/protocol.js';
import { warnRedacted } from '../../contract/redaction.js';
import type { StorageQueue } from '../../storage/queues.js';
import { decodeExecutorEvent } from '../../storage/queues.js';

/** The longest a received message can stay invisible (7 days, the service maximum). */
const HIDE_SECONDS = 7 * 24 * 3600;

/** Options for polling the events queue. */
export interface EventReceiverOptions {
  /** First wait after an empty poll (ms, default 10); doubles up to maxPollMs. */
  minPollMs?: number;
  /**
   * Longest wait between polls (ms, default 50): the last task's success waits for the next poll
   * before the next stage can be submitted, so this bounds the driver's share of stage latency
   * (see docs/decisions.md); an idle driver makes 20 requests/s on its own events queue.
   */
  maxPollMs?: number;
  /** Called with each undecodable message text, which is then dropped. */
  onInvalid?: (text: string, error: unknown) => void;
}

/** Polls one events queue and dispatches every valid event to `onEvent` in arrival order. */
export class EventReceiver {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Events received so far (for metrics); late duplicates count too. */
  received = 0;
  /** Poll requests made so far (for request accounting). */
  polls = 0;

  constructor(
    private readonly queue: StorageQueue,
    private readonly onEvent: (event: ExecutorEvent) => void,
    private readonly options: EventReceiverOptions = {},
  ) {}

  /** Start polling in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Poll immediately instead of waiting out the current back-off (e.g. right after enqueuing tasks). */
  poke(): void {
    this.wake?.();
  }

  /** Stop polling and wait for the loop to end. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const minPoll = this.options.minPollMs ?? 10;
    const maxPoll = this.options.maxPollMs ?? 50;
    let wait = minPoll;
    while (this.running) {
      let batch: Awaited<ReturnType<StorageQueue['receive']>> = [];
      try {
        this.polls++;
        batch = await this.queue.receive(32, HIDE_SECONDS);
      } catch (error) {
        // A transient storage failure (the SDK already retried): back off and poll again.
        warnRedacted(`stratus: events queue poll failed: ${(error as Error).message}`);
      }
      for (const message of batch) {
        let event: ExecutorEvent;
        try {
          event = decodeExecutorEvent(message.text);
        } catch (error) {
          this.options.onInvalid?.(message.text, error);
          continue;
        }
        this.received++;
        this.onEvent(event);
      }
      if (batch.length > 0) {
        wait = minPoll;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      wait = Math.min(maxPoll, wait * 2);
    }
  }
}
