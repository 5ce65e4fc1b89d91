/**
 * The process contract of the local executor host, for whoever spawns it (the driver's local
 * fabric, tests). Imports nothing but node:path/node:url so it is cheap to import anywhere.
 *
 *   node dist/executor-function/local-host/main.js --app <functionAppDir>
 *
 * stdout carries JSON lines only: first `{"event":"ready",…}` once the listener runs; with
 * `STRATUS_HOST_VERBOSE=1` also `poll`, `invocation-start`, `invocation-end`, `poison` and `log`
 * lines (`log`: a line the app wrote through an invocation's context). Diagnostics go to stderr,
 * the app's invocation log lines too (information and above; all levels when verbose).
 * SIGTERM/SIGINT stop fetching and run the app's appTerminate hooks at once, as the worker does
 * on WorkerTerminate: the executor app tells in-flight tasks to stop, and within its shutdown grace
 * (`STRATUS_SHUTDOWN_GRACE_MS`) their invocations end, failed ones' messages are released, and the
 * host exits 0. As the Functions host, it kills the worker 5 s after the signal: invocations still
 * running then fail, their messages are released, and the host exits 1. A host that cannot start
 * (no function registered, bad settings) exits non-zero.
 */
import path from 'node:path';
import { packageRoot } from './package-root.js';

/** Environment variables the local host reads. */
export const HOST_ENV = {
  /** Storage connection string (the binding's `connection` setting). */
  storage: 'AzureWebJobsStorage',
  /** Task queue name, resolved into the binding's `%STRATUS_TASK_QUEUE%` (default `stratus-tasks`). */
  taskQueue: 'STRATUS_TASK_QUEUE',
  /** The executor id reported in events and in the ready line. */
  executorId: 'STRATUS_EXECUTOR_ID',
  /** Interval between task heartbeats (ms). */
  heartbeatMs: 'STRATUS_HEARTBEAT_MS',
  /**
   * On shutdown, how long (ms) running tasks get to stop after their signal before their threads
   * are terminated (default 3000); it must stay under the host's 5 s terminate grace.
   */
  shutdownGraceMs: 'STRATUS_SHUTDOWN_GRACE_MS',
  /** `1` prints poll / invocation / poison lines on stdout. */
  verbose: 'STRATUS_HOST_VERBOSE',
  /** Message lease in seconds (the storage extension uses 10 minutes). */
  leaseSeconds: 'STRATUS_HOST_LEASE_SECONDS',
  /** First empty-poll backoff step in ms (the storage extension uses 100 ms). */
  minPollMs: 'STRATUS_HOST_MIN_POLL_MS',
} as const;

/** App settings that override host.json `extensions.queues`; `slots` = batchSize + newBatchThreshold. */
export const QUEUE_OVERRIDE_ENV = {
  batchSize: 'AzureFunctionsJobHost__extensions__queues__batchSize',
  newBatchThreshold: 'AzureFunctionsJobHost__extensions__queues__newBatchThreshold',
  maxDequeueCount: 'AzureFunctionsJobHost__extensions__queues__maxDequeueCount',
  visibilityTimeout: 'AzureFunctionsJobHost__extensions__queues__visibilityTimeout',
  maxPollingInterval: 'AzureFunctionsJobHost__extensions__queues__maxPollingInterval',
} as const;

/** Environment that gives an executor `slots` slots: batchSize 1, newBatchThreshold slots-1. */
export function slotsEnv(slots: number): Record<string, string> {
  if (!Number.isInteger(slots) || slots < 1)
    throw new RangeError(`slots must be an integer ≥ 1, got ${slots}`);
  return { [QUEUE_OVERRIDE_ENV.batchSize]: '1', [QUEUE_OVERRIDE_ENV.newBatchThreshold]: String(slots - 1) };
}

/** The first stdout line, printed once the listener runs. */
export interface HostReadyLine {
  event: 'ready';
  executorId: string;
  slots: number;
  queue: string;
  pid: number;
}

/** Optional stdout lines (STRATUS_HOST_VERBOSE=1). */
export type HostVerboseLine =
  | { event: 'poll'; at: number; received: number; inFlight: number }
  | { event: 'invocation-start'; at: number; messageId: string; dequeueCount: number; inFlight: number }
  | { event: 'invocation-end'; at: number; messageId: string; ok: boolean; inFlight: number }
  | { event: 'poison'; at: number; messageId: string; dequeueCount: number; reason: string }
  | {
      event: 'log';
      at: number;
      messageId: string;
      invocationId: string;
      level: string;
      category: string;
      message: string;
    };

/** Every JSON line the host prints on stdout. */
export type HostLine = HostReadyLine | HostVerboseLine;

/** Absolute path of the host's entry script, `dist/executor-function/local-host/main.js`. */
export function localHostMainPath(): string {
  return path.join(packageRoot(), 'dist', 'executor-function', 'local-host', 'main.js');
}

/** Absolute path of the packaged function app the host loads by default, `dist/function-app`. */
export function defaultFunctionAppDir(): string {
  return path.join(packageRoot(), 'dist', 'function-app');
}

/** The argv (after `node`) that starts a host on `appDir`. */
export function localHostArgs(appDir: string = defaultFunctionAppDir()): string[] {
  return [localHostMainPath(), '--app', appDir];
}
