/**
 * The task runner: what one invocation of the executor function does with one task message.
 * It validates the message, drops a stage task its application lease says nobody needs, takes
 * a slot, reports `task-started`, heartbeats while the task runs in a task thread, then reports
 * `task-succeeded` or `task-failed` and returns or throws, so the host deletes the message or
 * retries it (and poisons it after maxDequeueCount); a failure retrying cannot fix (the error's
 * `retryable`) is moved to the poison queue at once and not retried. While a stage task runs,
 * the instance's LeaseWatch checks its lease; when the driver no longer needs the attempt, the
 * runner terminates its thread, reports `task-killed` and returns: the message is settled as done.
 * When the executor shuts down (executor-shutdown.ts) a running task is told through its signal
 * and, if it does not finish, fails its invocation without a `task-failed` event (a
 * `task-interrupted` one instead): the message returns to the queue and the attempt runs
 * elsewhere, not counted against the task.
 * Every diagnostic goes to the invocation's log (invocation-log.ts), naming the task.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { coerceError, ProtocolError } from '../contract/errors.js';
import {
  DEFAULT_TASK_QUEUE,
  eventsQueueName,
  isValidAppId,
  poisonQueueName,
  taskExecutionId,
} from '../contract/names.js';
import {
  type ExecutorEventInput,
  encodeWire,
  PROTOCOL_VERSION,
  parseTaskMessage,
  type TaskMessage,
  type TaskRejectedEvent,
  TaskRejectedEventSchema,
  type TaskRejectionReason,
  taskAttemptId,
} from '../contract/protocol.js';
import { signingKeyFromEnv, verifyTaskMessage } from '../contract/signing.js';
import { removeSpillDirectories } from '../duckdb/session.js';
import { BlobStore } from '../storage/blob-store.js';
import { StorageQueue } from '../storage/queues.js';
import { blockLimitsFromEnv, ExecutorBlockManager } from './block-manager.js';
import { EventReporter, EventsQueueGoneError } from './event-reporter.js';
import { executorSlotCount, resolveExecutorId, SlotAllocator } from './executor-identity.js';
import {
  DEFAULT_SHUTDOWN_GRACE_MS,
  ExecutorShutdown,
  ExecutorShutdownError,
  WORKER_TERMINATE_GRACE_MS,
} from './executor-shutdown.js';
import { ExecutorLog, type LogSink, stderrSink } from './invocation-log.js';
import { DEFAULT_LEASE_CHECK_MS, LeaseWatch, type StopVerdict } from './lease-watch.js';
import { connectFromSetting } from './storage-binding.js';
import { BLOB_TAMPERED, NonRetryableTaskError, TaskAttemptFailedError } from './task-errors.js';
import { TaskThreadPool } from './worker-pool.js';

/** What the runner needs from the queue trigger's metadata. */
export interface TriggerInfo {
  /** The message's dequeue count (1 on first delivery). */
  dequeueCount: number;
}

/** Default interval between `task-heartbeat` events (ms); `STRATUS_HEARTBEAT_MS` overrides it. */
export const DEFAULT_HEARTBEAT_MS = 3000;

/**
 * How long an interrupted invocation waits for its `task-interrupted` event to be sent (ms)
 * before it fails anyway: the event is a courtesy, the invocation's failure within the host's
 * terminate grace is what gives the message back.
 */
const INTERRUPTED_REPORT_BOUND_MS = 1000;

interface Executor {
  executorId: string;
  slots: SlotAllocator;
  pool: TaskThreadPool;
  /** Partitions of datasets persisted at 'memory' / 'disk' kept by this executor. */
  blocks: ExecutorBlockManager;
  events: EventReporter;
  leases: LeaseWatch;
  heartbeatMs: number;
}

/**
 * Drop the blocks and cache copies of applications other than `current` whose lease has ended
 * (the driver cannot call executors, so this is how they learn). One lease read per such
 * application per lease-check period at most (LeaseWatch caches them).
 */
async function releaseEndedApps(ex: Executor, current: string): Promise<void> {
  for (const appId of ex.blocks.appIds()) {
    if (appId === current) continue;
    try {
      if (await ex.leases.hasEnded(appId)) ex.blocks.release(`${appId}/`);
    } catch {
      // Deliberately ignored: the blocks stay until a later task checks again or LRU evicts them.
    }
  }
}

/** A positive number of milliseconds from the environment, else `fallback`. */
function envMs(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

let executor: Executor | undefined;
/** This process's shutdown state: one per process, like the executor, and never reset. */
const shutdown = new ExecutorShutdown();

/** The per-process executor state, built at the first invocation. */
function currentExecutor(): Executor {
  if (!executor) {
    const connection = connectFromSetting(process.env);
    executor = {
      executorId: resolveExecutorId(),
      slots: new SlotAllocator(),
      pool: new TaskThreadPool(executorSlotCount()),
      blocks: new ExecutorBlockManager(blockLimitsFromEnv(process.env)),
      events: new EventReporter(connection),
      leases: new LeaseWatch(
        new BlobStore(connection),
        envMs('STRATUS_LEASE_CHECK_MS', DEFAULT_LEASE_CHECK_MS),
        // Lease checks serve every invocation of the instance: their lines belong to none.
        (line) => ExecutorLog.forExecutor(resolveExecutorId(), stderrSink).warn(line),
      ),
      heartbeatMs: envMs('STRATUS_HEARTBEAT_MS', DEFAULT_HEARTBEAT_MS),
    };
  }
  return executor;
}

/**
 * Start the instance's task threads before its first task (the app's appStart hook): loading the
 * thread bundle then overlaps the wait for the first message instead of delaying its task.
 * `STRATUS_PREWARM_THREADS` threads (default: one per slot; `0` none). Never throws: a setting
 * that breaks the executor fails its first invocation, where the host reports it.
 */
export function prewarmTaskThreads(): void {
  try {
    const ex = currentExecutor();
    const setting = process.env.STRATUS_PREWARM_THREADS;
    const wanted = setting === undefined ? ex.pool.size : Number(setting);
    if (Number.isInteger(wanted) && wanted > 0) ex.pool.prewarm(wanted);
  } catch {
    // Said by the first invocation, which builds the executor again.
  }
}

/** The worker hands the body JSON-parsed when it parses; a string means it did not. */
function decodeInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}

/** What the executor tells a driver about a message it refused. */
interface Rejection {
  reason: TaskRejectionReason;
  message: string;
  field?: string;
}

/**
 * Tell the driver of a refused message why, in a `task-rejected` event of this executor's own
 * protocol version (which drivers of any version accept). The message is untrusted, so the
 * event goes only to the events queue the protocol names for its application
 * (`stratus-events-<appId>`), which the driver created: nothing else in the account is written.
 * Returns quietly when the message does not name enough to address the event.
 */
async function reportRejection(
  ex: Executor,
  log: ExecutorLog,
  raw: unknown,
  dequeueCount: number,
  rejection: Rejection,
) {
  if (typeof raw !== 'object' || raw === null) return;
  const fields = raw as Record<string, unknown>;
  if (typeof fields.appId !== 'string' || !isValidAppId(fields.appId)) return;
  const queue = eventsQueueName(fields.appId);
  if (fields.eventsQueue !== queue) return;
  let event: TaskRejectedEvent;
  try {
    event = TaskRejectedEventSchema.parse({
      v: PROTOCOL_VERSION,
      type: 'task-rejected',
      appId: fields.appId,
      jobId: fields.jobId,
      stageId: fields.stageId,
      partition: fields.partition,
      attempt: fields.attempt,
      executorId: ex.executorId,
      at: Date.now(),
      dequeueCount,
      ...rejection,
    });
  } catch {
    return; // no ids to address it by: the poison queue is the only record
  }
  await ex.events.send(queue, event).catch((sendError: unknown) => {
    log.warn(`cannot report the rejected task message: ${String(sendError)}`);
  });
}

/**
 * Run one task invocation. Resolves when the task succeeded and its `task-succeeded` event was
 * sent; otherwise throws an Error (never anything else) after reporting what it could. `sink`
 * is the invocation's log (the InvocationContext); without one, lines go to stderr.
 */
export async function runTaskInvocation(
  input: unknown,
  trigger: TriggerInfo,
  sink: LogSink = stderrSink,
): Promise<void> {
  // A message delivered while the instance drains goes back to the queue untouched.
  shutdown.refuseIfStopping('task message refused');
  return shutdown.track(runInvocation(input, trigger, sink));
}

async function runInvocation(input: unknown, trigger: TriggerInfo, sink: LogSink): Promise<void> {
  const ex = currentExecutor();
  const invocationLog = ExecutorLog.forExecutor(ex.executorId, sink);
  const raw = decodeInput(input);
  let message: TaskMessage;
  try {
    message = parseTaskMessage(raw);
  } catch (thrown) {
    const error = coerceError(thrown);
    const field = error instanceof ProtocolError ? error.context.field : undefined;
    await reportRejection(ex, invocationLog, raw, trigger.dequeueCount, {
      reason: 'invalid',
      message: error.message,
      ...(field !== undefined ? { field } : {}),
    });
    // Thrown, so the host retries and then poisons it: the poison queue keeps the record.
    throw new NonRetryableTaskError(`rejected task message: ${error.message}`, { cause: error });
  }
  const attemptId = taskAttemptId(message);
  const log = invocationLog.forTask(attemptId, { ...message, dequeueCount: trigger.dequeueCount });
  const key = signingKeyFromEnv(process.env);
  if (key !== undefined) {
    const problem = verifyTaskMessage(raw as object, key);
    if (problem !== undefined) {
      // Never load code for it: move it to the poison queue, and tell its driver why.
      const what = `${problem === 'unsigned' ? 'unsigned' : 'tampered (bad signature)'} task message ${attemptId}`;
      await quarantine(log, raw, what);
      await reportRejection(ex, log, raw, trigger.dequeueCount, {
        reason: problem,
        message: `${what} refused`,
      });
      return;
    }
  }
  // Stage tasks run under their application's lease (noop tasks have none): one that nobody
  // needs any more — its job cancelled, its stage over, a loser, its driver gone — is dropped
  // before it takes a thread or reports anything.
  const leased = message.work.kind === 'stage' ? message : undefined;
  if (leased) {
    const verdict = await ex.leases.verdict(leased);
    if (!verdict.run) {
      if (verdict.kind === 'app-ended') ex.blocks.release(`${message.appId}/`);
      log.info(`dropped: ${verdict.reason}`);
      return;
    }
    // Blocks and cache copies die with their application; not awaited: a cache, not this task's work.
    void releaseEndedApps(ex, message.appId);
  }
  // Two deliveries of one message can share attempt and dequeueCount; the nonce never does.
  const execution = {
    attempt: message.attempt,
    dequeueCount: trigger.dequeueCount,
    nonce: randomBytes(4).toString('hex'),
  };
  // Made here, not in the task thread, so it is removed even when the thread is terminated.
  const tempDir = await mkdtemp(path.join(tmpdir(), `stratus-${taskExecutionId(message, execution)}-`));
  const slot = ex.slots.acquire();
  const base = {
    v: message.v,
    appId: message.appId,
    jobId: message.jobId,
    stageId: message.stageId,
    partition: message.partition,
    attempt: message.attempt,
    executorId: ex.executorId,
    slot,
    dequeueCount: trigger.dequeueCount,
  };
  const send = (event: Record<string, unknown>) =>
    ex.events.send(message.eventsQueue, { ...base, at: Date.now(), ...event } as ExecutorEventInput);
  // task-started goes out while the task runs (a queue send off its critical path, once per
  // task); every later event waits for that send to end, so none overtakes it.
  let startSent: Promise<unknown> = Promise.resolve();
  const report = (event: Record<string, unknown>) => startSent.then(() => send(event));
  // The events queue is gone: the application ended, nobody reads the outcome, and a retry would
  // run the task again for nothing; the invocation settles and the host deletes the message.
  const logApplicationEnded = () => log.info('dropped after it ran: its application has ended');
  const warn = (what: string) => (error: unknown) => log.warn(`${what} failed: ${String(error)}`);
  // A heartbeat or task-started that finds the events queue gone is the same normal end of an
  // application as an outcome that does: information, said once per invocation (a long task
  // would otherwise repeat it every heartbeat); later ones are dropped on purpose.
  let applicationEndSaid = false;
  const progressNotSent = (what: string) => (error: unknown) => {
    if (!(error instanceof EventsQueueGoneError)) return warn(what)(error);
    if (applicationEndSaid) return;
    applicationEndSaid = true;
    log.info(`${what} not sent: ${error.message}`);
  };

  const started = performance.now();
  const heartbeat = setInterval(
    () => void report({ type: 'task-heartbeat' }).catch(progressNotSent('heartbeat')),
    ex.heartbeatMs,
  );
  const kill = new AbortController();
  let stop: StopVerdict | undefined;
  const unwatch = leased
    ? ex.leases.watch(leased, (verdict) => {
        stop = verdict;
        kill.abort();
      })
    : () => undefined;
  // Past the shutdown grace, the thread of a task that did not stop is terminated.
  const unregisterHardStop = shutdown.onHardStop(() => kill.abort());
  try {
    // A lost task-started is not fatal: the driver also learns from heartbeats and the outcome.
    startSent = send({ type: 'task-started' }).catch(progressNotSent('task-started'));
    const result = await ex.pool.run(
      {
        message,
        executorId: ex.executorId,
        slot,
        dequeueCount: trigger.dequeueCount,
        nonce: execution.nonce,
        tempDir,
        blocks: ex.blocks.snapshot(message.appId),
      },
      kill.signal,
      (line) => log.info(line),
    );
    clearInterval(heartbeat);
    unwatch();
    if (result.status === 'killed' && stop !== undefined) {
      const verdict: StopVerdict = stop;
      const runMs = performance.now() - started;
      log.info(`stopped after ${Math.round(runMs)} ms: ${verdict.reason}`);
      // Not a failure, so the host must not retry it: return and the message is deleted. Its
      // blobs stay (named by this execution, never read by the driver, removed with the
      // application). When the application has ended nobody reads events any more.
      if (verdict.kind !== 'app-ended') {
        await report({ type: 'task-killed', reason: verdict.reason, runMs }).catch(warn('task-killed'));
      }
      return;
    }
    if (result.status !== 'succeeded' && shutdown.isShuttingDown) {
      // Told to stop (its signal) or terminated past the grace: not the task's failure, so no
      // task-failed event counts against it. The invocation fails, the host keeps the message,
      // and it becomes visible again for another executor.
      const how = result.status === 'killed' ? 'its thread was terminated' : result.error.message;
      const runMs = performance.now() - started;
      log.warn(
        `interrupted after ${Math.round(runMs)} ms by the executor's shutdown (${how}); the message returns to the queue`,
      );
      // Tell the driver this delivery ended, so it is not shown running until its stage ends.
      // Best effort and bounded: the host kills the process soon (WORKER_TERMINATE_GRACE_MS).
      const reason =
        result.status === 'killed'
          ? 'executor is shutting down (its thread was terminated after the grace)'
          : 'executor is shutting down';
      const told = report({ type: 'task-interrupted', reason, runMs }).catch(
        progressNotSent('task-interrupted'),
      );
      await Promise.race([told, delay(INTERRUPTED_REPORT_BOUND_MS, undefined, { ref: false })]);
      throw new ExecutorShutdownError(`task ${attemptId} interrupted`);
    }
    if (result.status === 'killed') throw new Error(`task ${attemptId} killed with no verdict`);
    if (result.status === 'succeeded') {
      // Before the temp folder goes: the task's disk blocks are moved out of it.
      try {
        ex.blocks.accept(result.blocks);
      } catch (error) {
        // Only a cache: the partitions are recomputed where they are missing.
        log.warn(`keeping the task's persisted partitions failed: ${String(error)}`);
      }
      const { metrics, ...rest } = result.outcome;
      const durationMs = metrics.durationMs ?? performance.now() - started;
      // If this send fails the handler throws and the host retries: the driver must learn of
      // success — unless its events queue is gone, the application ended and nobody will.
      const sent = report({ type: 'task-succeeded', ...rest, metrics: { ...metrics, durationMs } });
      await sent.catch((error: unknown) => {
        if (!(error instanceof EventsQueueGoneError)) throw error;
        logApplicationEnded();
      });
      return;
    }
    if (result.error.code === BLOB_TAMPERED) {
      // A blob the signed message pins was altered: found before any of the job's code loaded.
      // Retrying reads the same bytes, so quarantine the message as a tampered one and tell the driver.
      await quarantine(
        log,
        raw,
        `task message ${attemptId}: ${result.error.message}`,
        'none of the job code ran for it',
      );
      await reportRejection(ex, log, raw, trigger.dequeueCount, {
        reason: 'tampered-blob',
        message: result.error.message,
      });
      return;
    }
    if (result.error.code === 'APP_ENDED') {
      // The application ended while the task ran (it discarded what it wrote), or its job was
      // cancelled: nobody will read the outcome, and a retry could not help. Drop the task.
      log.info(`dropped: ${result.error.message}`);
      return;
    }
    const { retryable, ...error } = result.error;
    const sent = await report({ type: 'task-failed', error, retryable, fatal: !retryable }).then(
      () => 'reported' as const,
      (sendError: unknown) => {
        if (sendError instanceof EventsQueueGoneError) return 'application-ended' as const;
        warn('task-failed')(sendError);
        return 'unreported' as const;
      },
    );
    if (sent === 'application-ended') {
      logApplicationEnded(); // a retry would run the task for an application that no longer exists
      return;
    }
    const reported = sent === 'reported';
    if (!retryable && reported) {
      // Retrying cannot help and the driver knows (it fails the stage now): keep the message in
      // the poison queue, where the host would put it after maxDequeueCount deliveries, and
      // settle the invocation, so no delivery runs the task again. Unreported, it is thrown as
      // any failure is, and a redelivery reports it.
      const parked = await moveToPoison(raw).then(
        () => true,
        (poisonError: unknown) => {
          warn('moving the message to the poison queue')(poisonError);
          return false;
        },
      );
      if (parked) {
        log.warn('failed with an error retrying cannot fix; moved to the poison queue, not retried');
        return;
      }
    }
    throw new TaskAttemptFailedError(attemptId, result.error);
  } finally {
    clearInterval(heartbeat);
    unwatch();
    unregisterHardStop();
    ex.slots.release(slot);
    await rm(tempDir, { recursive: true, force: true }).catch(warn('removing the temp folder'));
  }
}

/**
 * Send a rejected message to the task queue's poison queue (with a security log line) instead of
 * running it; `outcome` says how far it got (default: no code of it was loaded).
 */
async function quarantine(
  log: ExecutorLog,
  raw: unknown,
  why: string,
  outcome = 'no code loaded',
): Promise<void> {
  log.error(`SECURITY: rejected ${why}; moved to ${poisonQueueName(taskQueueName())}, ${outcome}`);
  await moveToPoison(raw);
}

/** The task queue this function app is triggered by. */
function taskQueueName(): string {
  return process.env.STRATUS_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
}

/** Send a task message to the task queue's poison queue; the caller settles the invocation. */
async function moveToPoison(raw: unknown): Promise<void> {
  const poison = new StorageQueue(connectFromSetting(process.env), poisonQueueName(taskQueueName()));
  await poison.ensure();
  await poison.send(encodeWire(raw as object));
}

/**
 * Shut the executor down (the app's appTerminate hook): refuse new tasks, abort every running
 * task's signal, wait up to `graceMs` (default `STRATUS_SHUTDOWN_GRACE_MS`, else 3 s) for their
 * invocations to end, terminate the threads still running, then close the pool. Resolves once
 * no invocation of this process is running. The host kills the process 5 s after it asked it to
 * stop (WORKER_TERMINATE_GRACE_MS), so a grace that does not fit under that is said on stderr.
 */
export async function closeTaskRunner(
  graceMs = envMs('STRATUS_SHUTDOWN_GRACE_MS', DEFAULT_SHUTDOWN_GRACE_MS),
): Promise<void> {
  if (executor && graceMs >= WORKER_TERMINATE_GRACE_MS) {
    ExecutorLog.forExecutor(executor.executorId, stderrSink).warn(
      `STRATUS_SHUTDOWN_GRACE_MS=${graceMs} is not under the Functions host's ${WORKER_TERMINATE_GRACE_MS} ms terminate grace: the host may kill this process before its tasks are interrupted, leaving their messages to the host`,
    );
  }
  await shutdown.drain(executor?.pool, graceMs);
  await executor?.pool.close();
  executor?.blocks.close();
  removeSpillDirectories();
  executor = undefined;
}
