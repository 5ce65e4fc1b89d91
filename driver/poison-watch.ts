/**
 * Watches the task queue's poison queue for one application's task messages: the Functions
 * host moves a message there after maxDequeueCount failed deliveries (and executors move
 * unsigned or tampered ones there), and the job of such a task can never finish. Peeks only,
 * so other applications' messages and the queue itself are left alone.
 */
import { poisonQueueName } from '../engine/names.js';
import { decodeWire, parseTaskMessage, type TaskMessage } from '../engine/protocol.js';
import type { StorageConnection } from '../storage/connection.js';
import { StorageQueue } from '../storage/queues.js';

/** Polls `<taskQueue>-poison` and reports each new message of `appId` once. */
export class PoisonWatch {
  private readonly poison: StorageQueue;
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    storage: StorageConnection,
    taskQueue: string,
    private readonly appId: string,
    private readonly onPoisoned: (task: TaskMessage) => void,
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

  private async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const m of await this.poison.peek(32)) {
        if (this.seen.has(m.messageId)) continue;
        this.seen.add(m.messageId);
        let task: TaskMessage;
        try {
          task = parseTaskMessage(decodeWire(m.text));
        } catch {
          continue; // not a task message of any driver: the host poisoned a malformed body
        }
        if (task.appId === this.appId) this.onPoisoned(task);
      }
    } catch (error) {
      // A missing poison queue means nothing was poisoned yet.
      if ((error as { statusCode?: number }).statusCode !== 404) {
        process.emitWarning(`stratus: checking the poison queue failed: ${(error as Error).message}`);
      }
    } finally {
      this.busy = false;
    }
  }
}
