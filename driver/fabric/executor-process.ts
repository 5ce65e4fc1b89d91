/**
 * One local executor: a local Functions host process running the executor function app, started
 * per the host's process contract (contract/local-host-process.ts) and kept
 * under a watchdog so it cannot outlive the driver. Locally this is what one Functions host
 * instance is on Azure; its slots are the queue trigger's concurrency.
 */
import { createInterface } from 'node:readline';
import { StratusError } from '../../contract/errors.js';
import {
  HOST_ENV,
  type HostLine,
  type HostReadyLine,
  localHostArgs,
  slotsEnv,
} from '../../contract/local-host-process.js';
import { redactSecrets } from '../../storage/connection.js';
import { OutputTail, type ProcessExit, spawnWatched } from './watchdog.js';

/** What the host reports once its queue listener runs (its first stdout line). */
export type ReadyInfo = HostReadyLine;

/** Options for `spawnExecutorHost`. */
export interface ExecutorHostOptions {
  /** Storage connection string, given to the host as `AzureWebJobsStorage`. */
  connectionString: string;
  /** Stable id the executor reports in its events. */
  executorId: string;
  /** Concurrent invocations (batchSize 1 + newBatchThreshold slots-1). */
  slots: number;
  /** The task queue the executor function is triggered by. */
  queue: string;
  /** Function app folder; default `dist/function-app` of this package. */
  appDir?: string;
  /** Extra environment (timing overrides, STRATUS_HOST_VERBOSE…), applied last. */
  env?: Record<string, string>;
  /** Reject `ready` when no ready line came within this many ms; default 30 000. */
  readyTimeoutMs?: number;
  /** Called with every JSON line the host prints after the ready line (verbose lines). */
  onLine?: (line: HostLine) => void;
  /** Called with the host's raw output as it arrives (not redacted here: the host redacts its own). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

/** A running executor host process. */
export interface ExecutorHandle {
  /** The id the executor reports in its events (`executor-3`). */
  readonly executorId: string;
  /** The host process's pid. */
  readonly pid: number;
  /** Concurrent tasks the host runs (its queue trigger's batchSize + newBatchThreshold). */
  readonly slots: number;
  /**
   * @internal Resolves with the ready line; rejects (ExecutorStartError) when the host exits or
   * times out first. Internal: a LocalFabric hands out executors only once they are ready.
   */
  readonly ready: Promise<ReadyInfo>;
  /** Resolves when the host process has exited. */
  readonly exited: Promise<ProcessExit>;
  /** True once the host has exited. */
  readonly hasExited: boolean;
  /** Graceful stop: SIGTERM (in-flight tasks told to stop, their messages released), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<ProcessExit>;
  /** SIGKILL the host at once (a crashed instance). */
  kill(): void;
  /** The last few KiB of the host's stderr, secrets redacted. */
  stderrTail(): string;
}

/**
 * An executor host failed to start or exited before its ready line. Retryable: a start slowed
 * by a loaded machine may pass.
 */
export class ExecutorStartError extends StratusError {
  constructor(executorId: string, message: string) {
    super('EXECUTOR_START', `executor ${executorId}: ${message}`, {}, { retryable: true });
    this.name = 'ExecutorStartError';
  }
}

/** The environment one host runs with: the parent's, then the contract's settings, then `env`. */
export function executorHostEnv(options: ExecutorHostOptions): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [HOST_ENV.storage]: options.connectionString,
    [HOST_ENV.taskQueue]: options.queue,
    [HOST_ENV.executorId]: options.executorId,
    ...slotsEnv(options.slots),
    ...options.env,
  };
}

/** Start one executor host; resolves once its process exists (await `ready` for the listener). */
export async function spawnExecutorHost(options: ExecutorHostOptions): Promise<ExecutorHandle> {
  const { executorId } = options;
  const host = spawnWatched(process.execPath, localHostArgs(options.appDir), {
    env: executorHostEnv(options),
  });
  const stderr = new OutputTail();
  host.stderr.on('data', (chunk: Buffer) => {
    stderr.push(chunk);
    options.onOutput?.('stderr', chunk);
  });
  if (options.onOutput) host.stdout.on('data', (chunk: Buffer) => options.onOutput!('stdout', chunk));
  const stderrTail = () => redactSecrets(stderr.toString());

  const ready = new Promise<ReadyInfo>((resolve, reject) => {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(
      () =>
        reject(new ExecutorStartError(executorId, `no ready line within ${timeoutMs} ms\n${stderrTail()}`)),
      timeoutMs,
    );
    let isReady = false;
    createInterface({ input: host.stdout }).on('line', (text) => {
      let line: HostLine;
      try {
        line = JSON.parse(text) as HostLine;
      } catch {
        // The contract says stdout is JSON lines only; keep stray text for error messages.
        stderr.push(`(stdout) ${text}\n`);
        return;
      }
      if (!isReady && line.event === 'ready') {
        isReady = true;
        clearTimeout(timer);
        resolve(line);
      } else {
        options.onLine?.(line);
      }
    });
    host.exited.then((exit) => {
      clearTimeout(timer);
      if (!isReady)
        reject(
          new ExecutorStartError(
            executorId,
            `host exited before it was ready (code ${exit.code}, signal ${exit.signal})\n${stderrTail()}`,
          ),
        );
    });
  });
  // Callers may only look at `exited`; a start failure must not become an unhandled rejection.
  ready.catch(() => undefined);

  let pid: number;
  try {
    pid = await host.started;
  } catch (error) {
    throw new ExecutorStartError(executorId, `${(error as Error).message}\n${stderrTail()}`);
  }
  return {
    executorId,
    pid,
    slots: options.slots,
    ready,
    exited: host.exited,
    get hasExited() {
      return host.hasExited;
    },
    stop: (timeoutMs = 15_000) => host.stop(timeoutMs),
    kill: () => host.kill(),
    stderrTail,
  };
}
