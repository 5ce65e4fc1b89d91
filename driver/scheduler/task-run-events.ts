/**
 * Turns executor events of one stage's task attempts into run events (task-start, task-end)
 * for listeners: scheduling delay from the driver's launch time, the executor's start time,
 * the attempt's outcome — `ignored` for a late or duplicate success, `killed` when the
 * executor stopped it or its shutdown interrupted the delivery. Each delivery of a task message is its own attempt: its `attempt` is the
 * delivery's number (attempt-numbers.ts), its `messageAttempt` and `delivery` say which message
 * and which dequeue it was.
 */
import type { ExecutorEvent, TaskInterruptedEvent } from '../../contract/protocol.js';
import type { RunEvent } from '../observe/run-events.js';
import type { AttemptNumbers } from './attempt-numbers.js';

/** What the scheduler knows of a stage's attempts, keyed by `partition/attempt`. */
export interface TaskAttemptTimes {
  jobId: number;
  stageId: number;
  /** Driver clock when each attempt's message was sent, by `partition/messageAttempt`. */
  launchedAt: Map<string, number>;
  /** Executor clock when each delivery reported task-started, by `partition/attempt number` (filled here). */
  startedAt: Map<string, number>;
  taskSet: { isSpeculative(partition: number, attempt: number): boolean };
}

type TaskEnd = Extract<RunEvent, { type: 'task-end' }>;

/** The fields every run event of one task attempt carries. */
type AttemptFields = Pick<
  TaskEnd,
  | 'appId'
  | 'jobId'
  | 'stageId'
  | 'partition'
  | 'attempt'
  | 'messageAttempt'
  | 'delivery'
  | 'executorId'
  | 'slot'
  | 'launchedAt'
>;

const attemptKey = (partition: number, attempt: number) => `${partition}/${attempt}`;

function attemptFields(
  appId: string,
  stage: { jobId: number; stageId: number },
  task: { partition: number; attempt: number; executorId: string; slot: number; dequeueCount?: number },
  launchedAt: number,
  attemptNumber: number,
): AttemptFields {
  return {
    appId,
    jobId: stage.jobId,
    stageId: stage.stageId,
    partition: task.partition,
    attempt: attemptNumber,
    messageAttempt: task.attempt,
    ...(task.dequeueCount !== undefined ? { delivery: task.dequeueCount } : {}),
    executorId: task.executorId,
    slot: task.slot,
    launchedAt,
  };
}

/** A task's error as run events carry it: name, message and the user's stack. */
function errorInfo(error: { name: string; message: string; stack?: string | undefined }): TaskEnd['error'] {
  return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
}

/**
 * The run event for one executor event, or undefined when there is none (heartbeats, a repeated
 * task-started of one delivery). `numbers` gives the delivery its attempt number.
 */
export function taskRunEvent(
  appId: string,
  run: TaskAttemptTimes,
  event: ExecutorEvent,
  ignored: boolean,
  numbers: AttemptNumbers,
): RunEvent | undefined {
  const attempt = numbers.of(event);
  const k = attemptKey(event.partition, attempt);
  const common = {
    ...attemptFields(
      appId,
      run,
      { ...event, slot: event.type === 'task-rejected' ? 0 : event.slot },
      run.launchedAt.get(attemptKey(event.partition, event.attempt)) ?? event.at,
      attempt,
    ),
    speculative: run.taskSet.isSpeculative(event.partition, event.attempt),
  };
  /** The attempt's end at the executor's clock, with its start when it was seen starting. */
  const ended = (outcome: Pick<TaskEnd, 'status' | 'metrics' | 'reason' | 'error'>): TaskEnd => {
    const startedAt = run.startedAt.get(k);
    return {
      ...common,
      type: 'task-end',
      at: event.at,
      ...(startedAt !== undefined ? { startedAt } : {}),
      ...outcome,
    };
  };
  switch (event.type) {
    case 'task-started':
      if (run.startedAt.has(k)) return undefined; // the same delivery reported twice
      run.startedAt.set(k, event.at);
      return { ...common, type: 'task-start', at: event.at };
    case 'task-heartbeat':
      return undefined;
    case 'task-succeeded':
      return ended({ status: ignored ? 'ignored' : 'succeeded', metrics: event.metrics });
    case 'task-killed':
      return ended({ status: 'killed', reason: event.reason });
    case 'task-interrupted':
      // Only this delivery ended: the message is back on the queue and its next delivery is the
      // attempt's next run (a new attempt number), not a relaunch by the driver.
      return ended({ status: 'killed', reason: interruptedReason(event) });
    case 'task-failed':
      return ended({
        status: 'failed',
        error: errorInfo(event.error),
      });
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

/** What the run events say of a delivery its executor's shutdown interrupted. */
export function interruptedReason(event: Pick<TaskInterruptedEvent, 'reason'>): string {
  return `interrupted: ${event.reason}; its task message returns to the queue`;
}

/**
 * The end at `now` (driver clock) of an attempt whose executor went silent: `lost`, its slot
 * unknown (0). `task.attempt` is the message's; the attempt ended is its latest delivery seen.
 */
export function lostTaskEnd(
  appId: string,
  run: TaskAttemptTimes,
  task: { partition: number; attempt: number; executorId: string },
  now: number,
  numbers: AttemptNumbers,
): TaskEnd {
  const launchedAt = run.launchedAt.get(attemptKey(task.partition, task.attempt)) ?? now;
  const attempt =
    numbers.latest({ jobId: run.jobId, stageId: run.stageId, ...task }) ??
    numbers.of({ jobId: run.jobId, stageId: run.stageId, ...task, dequeueCount: 0 });
  return {
    type: 'task-end',
    at: now,
    ...attemptFields(appId, run, { ...task, slot: 0 }, launchedAt, attempt),
    status: 'lost',
  };
}

/**
 * The end at `now` (driver clock) of an attempt whose outcome arrived after its stage had
 * finished and that was never reported killed: a success is `ignored` (its partition had won),
 * a kill `killed`, a failure `failed`. Its launch time is unknown by then: the executor's event time.
 */
export function lateTaskEnd(
  appId: string,
  event: Extract<ExecutorEvent, { type: 'task-succeeded' | 'task-failed' | 'task-killed' }>,
  now: number,
  numbers: AttemptNumbers,
): TaskEnd {
  return {
    type: 'task-end',
    at: now,
    ...attemptFields(appId, event, event, event.at, numbers.of(event)),
    ...(event.type === 'task-killed'
      ? { status: 'killed' as const, reason: event.reason }
      : event.type === 'task-failed'
        ? { status: 'failed' as const, error: errorInfo(event.error) }
        : { status: 'ignored' as const }),
  };
}
