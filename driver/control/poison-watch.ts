/**
 * Watches the task queue's poison queue for one application's task messages. The Functions
 * host moves a message there after maxDequeueCount failed deliveries, on its own and without
 * telling anyone, and the job of such a task can never finish. (Messages an executor refuses —
 * invalid, another protocol version, unsigned, tampered — also arrive as `task-rejected`
 * events, which is faster; this watch is what works without the executor's help.)
 *
 * Nothing but an operator empties a poison queue, so any number of other applications'
 * messages may sit in front of ours, and a peek shows only the first 32. So each check peeks,
 * and when the peek is full and a job is running, sweeps the rest: it receives the visible
 * messages 32 at a time, hiding each for `SWEEP_HIDE_SECONDS`, until none is left visible.
 * The hidden messages are the sweep's cursor: the next check receives only messages that
 * arrived since or whose hiding ran out, so a long poison queue costs about one request per 32
 * messages per hiding period. Nothing is deleted or rewritten; receiving changes only a poison
 * message's visibility and dequeue count, which nothing reads.
 */
import { poisonQueueName } from '../../contract/names.js';
import { decodeWire, parseTaskMessage, type TaskMessage } from '../../contract/protocol.js';
import { warnRedacted } from '../../contract/redaction.js';
import type { StorageConnection } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';

/**
 * How long a message the sweep looked at stays hidden. Another driver sweeping the same poison
 * queue can hide one of our messages from us for this long, which bounds how late we see it.
 */
export const SWEEP_HIDE_SECONDS = 20;

/** Receive requests of one sweep at most (32 messages each); the next check goes on from there. */
const MAX_SWEEP_RECEIVES = 64;

/** What the watch needs besides the queue. */
export interface PoisonWatchOptions {
  /** Sweep past the first 32 messages only while this is true (a job is running); default always. */
  sweepWhile?: () => boolean;
}

/** Polls `<taskQueue>-poison` and reports each new message of `appId` once. */
export class PoisonWatch {
  private readonly poison: StorageQueue;
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** Receive requests made by sweeps (for request accounting and tests). */
  sweepReceives = 0;

  constructor(
    storage: StorageConnection,
    taskQueue: string,
    private readonly appId: string,
    private readonly onPoisoned: (task: TaskMessage) => void,
    private readonly options: PoisonWatchOptions = {},
  ) {
    this.poison = new StorageQueue(storage, poisonQueueName(taskQueue));
  }

  /** Check every `everyMs` milliseconds until `stop`. */
  start(everyMs: number): void {
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One check: peek, and sweep past a full peek. Never throws; overlapping calls return at once. */
  async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const front = await this.poison.peek(32);
      for (const m of front) this.look(m.messageId, m.text);
      if (front.length === 32 && (this.options.sweepWhile?.() ?? true)) await this.sweep();
    } catch (error) {
      // A missing poison queue means nothing was poisoned yet.
      if ((error as { statusCode?: number }).statusCode !== 404) {
        warnRedacted(`stratus: checking the poison queue failed: ${(error as Error).message}`);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Receive (and so hide) every visible message once, looking at each. */
  private async sweep(): Promise<void> {
    for (let i = 0; i < MAX_SWEEP_RECEIVES; i++) {
      const batch = await this.poison.receive(32, SWEEP_HIDE_SECONDS);
      this.sweepReceives++;
      if (batch.length === 0) return;
      for (const m of batch) this.look(m.messageId, m.text);
    }
  }

  private look(messageId: string, text: string): void {
    if (this.seen.has(messageId)) return;
    this.seen.add(messageId);
    let task: TaskMessage;
    try {
      task = parseTaskMessage(decodeWire(text));
    } catch {
      return; // not a task message of this protocol: the host poisoned a malformed body
    }
    if (task.appId === this.appId) this.onPoisoned(task);
  }
}
