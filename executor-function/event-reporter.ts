/**
 * Sends an executor's task events (`task-started`, heartbeats, `task-succeeded`, `task-failed`)
 * to the events queue the task message names. The driver creates that queue; the executor
 * never does, so a missing queue is an error the caller sees.
 */
import { type ExecutorEventInput, encodeExecutorEvent } from '../contract/protocol.js';
import { redactDeep, redactSecrets } from '../contract/redaction.js';
import type { StorageConnection } from '../storage/connection.js';
import { StorageQueue } from '../storage/queues.js';

/**
 * The event with its error and rejection texts redacted. Only those: results, accumulator names
 * and blob names are data the driver computes with, and a result must never change silently.
 */
function redactTexts(event: ExecutorEventInput): ExecutorEventInput {
  if (event.type === 'task-failed') return { ...event, error: redactDeep(event.error) };
  if (event.type === 'task-rejected') return { ...event, message: redactSecrets(event.message) };
  return event;
}

/** Validates and sends executor events; one instance per executor. */
export class EventReporter {
  private readonly queues = new Map<string, StorageQueue>();

  constructor(private readonly connection: StorageConnection) {}

  /**
   * Validate `event` against the protocol and send it to `queueName`, its texts for people
   * redacted (a task's error message or stack may quote a connection string or key); throws on
   * invalid event or send failure.
   */
  async send(queueName: string, event: ExecutorEventInput): Promise<void> {
    const text = encodeExecutorEvent(redactTexts(event));
    let queue = this.queues.get(queueName);
    if (!queue) {
      queue = new StorageQueue(this.connection, queueName);
      this.queues.set(queueName, queue);
    }
    await queue.send(text);
  }
}
