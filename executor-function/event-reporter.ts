/**
 * Sends an executor's task events (`task-started`, heartbeats, `task-succeeded`, `task-failed`)
 * to the events queue the task message names. The driver creates that queue and deletes it when
 * its application ends; the executor never creates it, so a missing queue means nobody will read
 * the event (EventsQueueGoneError), which the caller decides what to do about.
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

/**
 * The events queue a task message names does not exist: its driver closed the application (it
 * deletes the queue when it ends) or a sweep removed it after a crash. Nobody will read events of
 * that application again.
 */
export class EventsQueueGoneError extends Error {
  constructor(queueName: string, options?: { cause?: unknown }) {
    super(`events queue ${queueName} does not exist: its application has ended`, options);
    this.name = 'EventsQueueGoneError';
  }
}

/** Validates and sends executor events; one instance per executor. */
export class EventReporter {
  private readonly queues = new Map<string, StorageQueue>();

  constructor(private readonly connection: StorageConnection) {}

  /**
   * Validate `event` against the protocol and send it to `queueName`, its texts for people
   * redacted (a task's error message or stack may quote a connection string or key); throws on
   * invalid event or send failure, EventsQueueGoneError when the queue no longer exists.
   */
  async send(queueName: string, event: ExecutorEventInput): Promise<void> {
    const text = encodeExecutorEvent(redactTexts(event));
    let queue = this.queues.get(queueName);
    if (!queue) {
      queue = new StorageQueue(this.connection, queueName);
      this.queues.set(queueName, queue);
    }
    try {
      await queue.send(text);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404)
        throw new EventsQueueGoneError(queueName, { cause: error });
      throw error;
    }
  }
}
