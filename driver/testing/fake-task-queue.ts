/**
 * An in-memory task queue for scheduler tests, in the role of Spark's fake SchedulerBackend in
 * DAGSchedulerSuite: it records every task message the scheduler sends (decoded and
 * validated, in order) and keeps the ones no executor has taken yet, so `peek` tells the
 * scheduler the truth about an idle queue. Invariant: every message it accepts is a valid
 * task message; a malformed one rejects the send, as a test failure should.
 */
import { decodeWire, encodeWire, parseTaskMessage, type TaskMessage } from '../../contract/protocol.js';
import type { TaskQueue } from '../scheduler/ports.js';

/** Which messages a `take` may pick: by stage, partition and attempt (all optional). */
export interface TaskMessageFilter {
  stageId?: number;
  partition?: number;
  attempt?: number;
}

function matches(message: TaskMessage, filter: TaskMessageFilter): boolean {
  return (
    (filter.stageId === undefined || message.stageId === filter.stageId) &&
    (filter.partition === undefined || message.partition === filter.partition) &&
    (filter.attempt === undefined || message.attempt === filter.attempt)
  );
}

/** A TaskQueue that keeps its messages in memory; executors are simulated with `take`. */
export class FakeTaskQueue implements TaskQueue {
  /** Every message sent so far, oldest first (taken ones included). */
  readonly sent: TaskMessage[] = [];
  private readonly waiting: TaskMessage[] = [];

  /** Decode and validate the wire text, record it, and leave it waiting for an executor. */
  async send(text: string): Promise<void> {
    const message = parseTaskMessage(decodeWire(text));
    this.sent.push(message);
    this.waiting.push(message);
  }

  /** While set, every `peek` waits for this promise first: a queue slower than the scheduler's ticks. */
  peekGate: Promise<void> | undefined;
  /** How many times `peek` was called. */
  peeks = 0;

  /** Up to `max` waiting messages as wire text, oldest first, without taking them. */
  async peek(max: number): Promise<{ text: string }[]> {
    this.peeks++;
    if (this.peekGate) await this.peekGate;
    return this.waiting.slice(0, max).map((m) => ({ text: encodeWire(m) }));
  }

  /** Messages no executor has taken yet, oldest first. */
  get visible(): readonly TaskMessage[] {
    return this.waiting;
  }

  /** Messages sent so far that match `filter`, oldest first. */
  sentWhere(filter: TaskMessageFilter): TaskMessage[] {
    return this.sent.filter((m) => matches(m, filter));
  }

  /** An executor receives the oldest waiting message matching `filter`; throws when there is none. */
  take(filter: TaskMessageFilter = {}): TaskMessage {
    const index = this.waiting.findIndex((m) => matches(m, filter));
    if (index < 0) throw new Error(`no waiting task message matches ${JSON.stringify(filter)}`);
    return this.waiting.splice(index, 1)[0]!;
  }

  /**
   * A taken message becomes visible again, as the host releases the message of an invocation
   * that failed (a task interrupted by its executor's shutdown): last in line.
   */
  release(message: TaskMessage): void {
    this.waiting.push(message);
  }

  /** Executors receive every waiting message matching `filter`, oldest first. */
  takeAll(filter: TaskMessageFilter = {}): TaskMessage[] {
    const taken = this.waiting.filter((m) => matches(m, filter));
    for (const m of taken) this.waiting.splice(this.waiting.indexOf(m), 1);
    return taken;
  }
}
