/**
 * Turns executor events of one stage's task attempts into run events (task-start, task-end)
 * for listeners: scheduling delay from the driver's launch time, the executor's start time,
 * the attempt's outcome — `ignored` for a late or duplicate success, `killed` when the
 * executor stopped it.
 */
import type { ExecutorEvent } from '../engine/protocol.js';
import type { RunEvent } from './run-events.js';

/** What the scheduler knows of a stage's attempts, keyed by `partition/attempt`. */
export interface TaskAttemptTimes {
  jobId: number;
  stageId: number;
  /** Driver clock when each attempt's message was sent. */
  launchedAt: Map<string, number>;
  /** Executor clock when each attempt reported task-started (filled here). */
  startedAt: Map<string, number>;
  taskSet: { isSpeculative(partition: number, attempt: number): boolean };
}

const attemptKey = (partition: number, attempt: number) => `${partition}/${attempt}`;

/** The run event for one executor event, or undefined when there is none (heartbeats, redeliveries). */
export function taskRunEvent(
  appId: string,
  run: TaskAttemptTimes,
  event: ExecutorEvent,
  ignored: boolean,
): RunEvent | undefined {
  const k = attemptKey(event.partition, event.attempt);
  const launchedAt = run.launchedAt.get(k) ?? event.at;
  const common = {
    appId,
    jobId: run.jobId,
    stageId: run.stageId,
    partition: event.partition,
    attempt: event.attempt,
    executorId: event.executorId,
    slot: event.type === 'task-rejected' ? 0 : event.slot,
    launchedAt,
    speculative: run.taskSet.isSpeculative(event.partition, event.attempt),
  };
  switch (event.type) {
    case 'task-started':
      if (run.startedAt.has(k)) return undefined; // a redelivery of the same attempt
      run.startedAt.set(k, event.at);
      return { ...common, type: 'task-start', at: event.at };
    case 'task-heartbeat':
      return undefined;
    case 'task-succeeded': {
      const startedAt = run.startedAt.get(k);
      return {
        ...common,
        type: 'task-end',
        at: event.at,
        ...(startedAt !== undefined ? { startedAt } : {}),
        status: ignored ? 'ignored' : 'succeeded',
        metrics: event.metrics,
      };
    }
    case 'task-killed': {
      const startedAt = run.startedAt.get(k);
      return {
        ...common,
        type: 'task-end',
        at: event.at,
        ...(startedAt !== undefined ? { startedAt } : {}),
        status: 'killed',
        reason: event.reason,
      };
    }
    case 'task-failed': {
      const startedAt = run.startedAt.get(k);
      return {
        ...common,
        type: 'task-end',
        at: event.at,
        ...(startedAt !== undefined ? { startedAt } : {}),
        status: 'failed',
        error: {
          name: event.error.name,
          message: event.error.message,
          ...(event.error.stack ? { stack: event.error.stack } : {}),
        },
      };
    }
    case 'task-rejected':
      return {
        ...common,
        type: 'task-end',
        at: event.at,
        status: 'failed',
        error: { name: 'TaskRejected', message: `${event.reason}: ${event.message}` },
      };
  }
}
