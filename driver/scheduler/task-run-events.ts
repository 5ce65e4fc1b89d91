/**
 * Turns executor events of one stage's task attempts into run events (task-start, task-end)
 * for listeners: scheduling delay from the driver's launch time, the executor's start time,
 * the attempt's outcome — `ignored` for a late or duplicate success, `killed` when the
 * executor stopped it.
 */
import type { ExecutorEvent } from '../../contract/protocol.js';
import type { RunEvent } from '../observe/run-events.js';

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

type TaskEnd = Extract<RunEvent, { type: 'task-end' }>;

/** The fields every run event of one task attempt carries. */
type AttemptFields = Pick<
  TaskEnd,
  'appId' | 'jobId' | 'stageId' | 'partition' | 'attempt' | 'executorId' | 'slot' | 'launchedAt'
>;

const attemptKey = (partition: number, attempt: number) => `${partition}/${attempt}`;

function attemptFields(
  appId: string,
  stage: { jobId: number; stageId: number },
  task: { partition: number; attempt: number; executorId: string; slot: number },
  launchedAt: number,
): AttemptFields {
  return {
    appId,
    jobId: stage.jobId,
    stageId: stage.stageId,
    partition: task.partition,
    attempt: task.attempt,
    executorId: task.executorId,
    slot: task.slot,
    launchedAt,
  };
}

/** The run event for one executor event, or undefined when there is none (heartbeats, redeliveries). */
export function taskRunEvent(
  appId: string,
  run: TaskAttemptTimes,
  event: ExecutorEvent,
  ignored: boolean,
): RunEvent | undefined {
  const k = attemptKey(event.partition, event.attempt);
  const common = {
    ...attemptFields(
      appId,
      run,
      { ...event, slot: event.type === 'task-rejected' ? 0 : event.slot },
      run.launchedAt.get(k) ?? event.at,
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
      if (run.startedAt.has(k)) return undefined; // a redelivery of the same attempt
      run.startedAt.set(k, event.at);
      return { ...common, type: 'task-start', at: event.at };
    case 'task-heartbeat':
      return undefined;
    case 'task-succeeded':
      return ended({ status: ignored ? 'ignored' : 'succeeded', metrics: event.metrics });
    case 'task-killed':
      return ended({ status: 'killed', reason: event.reason });
    case 'task-failed':
      return ended({
        status: 'failed',
        error: {
          name: event.error.name,
          message: event.error.message,
          ...(event.error.stack ? { stack: event.error.stack } : {}),
        },
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

/** The end at `now` (driver clock) of an attempt whose executor went silent: `lost`, its slot unknown (0). */
export function lostTaskEnd(
  appId: string,
  run: TaskAttemptTimes,
  task: { partition: number; attempt: number; executorId: string },
  now: number,
): TaskEnd {
  const launchedAt = run.launchedAt.get(attemptKey(task.partition, task.attempt)) ?? now;
  return {
    type: 'task-end',
    at: now,
    ...attemptFields(appId, run, { ...task, slot: 0 }, launchedAt),
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
): TaskEnd {
  return {
    type: 'task-end',
    at: now,
    ...attemptFields(appId, event, event, event.at),
    ...(event.type === 'task-killed'
      ? { status: 'killed' as const, reason: event.reason }
      : { status: event.type === 'task-succeeded' ? ('ignored' as const) : ('failed' as const) }),
  };
}
