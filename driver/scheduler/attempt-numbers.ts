/**
 * Attempt numbers as users see them: every delivery of a task message is its own attempt.
 *
 * The driver numbers task *messages* (`attempt` in the message: the original, a relaunch, a
 * speculative copy), but retrying a failed message is the queue's job: the Functions host makes
 * it visible again and the same message runs again with a higher `dequeueCount` (the queue
 * trigger metadata's DequeueCount). Labelled by the message's attempt alone, four failed
 * deliveries of one message were four "attempt 0"s, and each reader of the event log counted them
 * differently. So the driver gives each delivery — (message attempt, dequeueCount) — a number of
 * its own, per partition, in the order the deliveries are first seen: 0, 1, 2… This is what every
 * run event's `attempt` is (the event log, the progress line, the run summary and `stratus ui`
 * all read it); the message's own attempt travels beside it as `messageAttempt`, and stays what
 * executors, blob names and the application lease speak.
 */

/** One delivery of a task message, as an executor event names it. */
export interface TaskDelivery {
  jobId: number;
  stageId: number;
  partition: number;
  /** The attempt the task message carries (driver-assigned). */
  attempt: number;
  /** The queue trigger's dequeue count of this delivery (1 on the first). */
  dequeueCount: number;
}

const partitionKey = (t: { jobId: number; stageId: number; partition: number }) =>
  `${t.jobId}:${t.stageId}:${t.partition}`;

/** Numbers the deliveries of an application's task messages, per partition, from 0. */
export class AttemptNumbers {
  /** `job:stage:partition/messageAttempt/dequeueCount` → attempt number. */
  private readonly byDelivery = new Map<string, number>();
  /** `job:stage:partition/messageAttempt` → the number of its latest delivery seen. */
  private readonly latestOfMessage = new Map<string, number>();
  /** `job:stage:partition` → the next number to give. */
  private readonly next = new Map<string, number>();

  /** The attempt number of a delivery: the one it was given, or the partition's next one. */
  of(delivery: TaskDelivery): number {
    const message = `${partitionKey(delivery)}/${delivery.attempt}`;
    const key = `${message}/${delivery.dequeueCount}`;
    const known = this.byDelivery.get(key);
    if (known !== undefined) return known;
    const partition = partitionKey(delivery);
    const n = this.next.get(partition) ?? 0;
    this.next.set(partition, n + 1);
    this.byDelivery.set(key, n);
    this.latestOfMessage.set(message, n);
    return n;
  }

  /**
   * The number of the latest delivery seen of a task message, or undefined when none was seen
   * (an attempt the driver ends on its own, as lost, names only its message).
   */
  latest(task: Omit<TaskDelivery, 'dequeueCount'>): number | undefined {
    return this.latestOfMessage.get(`${partitionKey(task)}/${task.attempt}`);
  }
}
