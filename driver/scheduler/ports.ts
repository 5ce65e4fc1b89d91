/**
 * The ports of the scheduler: the only doors through which the DAG scheduler, the task
 * scheduler and their task sets reach the outside world — the task queue they send task
 * messages to, the blobs they write descriptors and map-output tables to (and read results
 * from), and the clock that stamps events and paces the periodic checks. As Spark's
 * DAGScheduler talks to a SchedulerBackend and a Clock it is given, so tests drive it with
 * fakes and a manual clock, without any server.
 *
 * Invariant: this file is interfaces only and imports nothing; the storage classes
 * (`StorageQueue`, `BlobStore`) satisfy the first two structurally, without adapters.
 */

/** The task queue as the scheduler uses it: send a task message, see whether any is waiting. */
export interface TaskQueue {
  /** Send one task message as wire text (base64 JSON, see contract/protocol `encodeWire`). */
  send(text: string): Promise<void>;
  /** Up to `max` messages visible now, without taking them; empty when none waits. */
  peek(max: number): Promise<readonly { text: string }[]>;
}

/** The blob operations the scheduler uses: whole-blob writes (descriptors, tables) and reads (results). */
export interface BlobPort {
  /** Write a whole blob, replacing any previous content. */
  put(container: string, name: string, body: Buffer | string): Promise<void>;
  /** Read a whole blob; rejects (BlobNotFoundError for the real store) when it does not exist. */
  get(container: string, name: string): Promise<Buffer>;
}

/** A scheduled timer; `cancel` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * The driver's clock: what "now" is (ms since the epoch) and timers on that same time line.
 * Timers must never keep the process alive (the real clock unrefs them).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Call `tick` every `intervalMs` until cancelled. */
  every(intervalMs: number, tick: () => void): TimerHandle;
  /** Call `fire` once after `delayMs` unless cancelled first. */
  after(delayMs: number, fire: () => void): TimerHandle;
}
