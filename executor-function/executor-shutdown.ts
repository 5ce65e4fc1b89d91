/**
 * Graceful shutdown of one executor (a Functions host instance being drained: scale-in, a
 * deployment, SIGTERM). The Node worker tells the app only through the `appTerminate` hook, run
 * when the host sends WorkerTerminate ("warning before killing the process after grace_period",
 * FunctionRpc.proto; the worker 3.9.1 leaves InvocationCancel unimplemented). From then on:
 * no new task starts here, every running task's `TaskContext.signal` aborts so it can stop
 * early, and after a bounded grace the task threads still running are terminated. An interrupted
 * invocation fails, so the host does not delete its message: it becomes visible again and
 * another executor runs the attempt (Spark's "executor lost" — not a failure of the task).
 */
import { StratusError } from '../contract/errors.js';
import type { TaskThreadPool } from './worker-pool.js';

/**
 * How long the Functions host waits for the worker process to exit after WorkerTerminate before
 * it kills it (ms): `GrpcWorkerChannel` sends `WorkerTerminate` with
 * `WorkerConstants.WorkerTerminateGracePeriodInSeconds` (5), waits `WaitForProcessExitInMilliSeconds(5000)`,
 * then `Process.Kill()`, and fails the invocations that got no response. The worker does not
 * pass the grace to the app (`terminateWorker(_msg)`), so the executor must know it.
 */
export const WORKER_TERMINATE_GRACE_MS = 5_000;

/**
 * Default bound (ms) between telling tasks to stop and terminating their threads;
 * `STRATUS_SHUTDOWN_GRACE_MS` overrides it. It must stay well under WORKER_TERMINATE_GRACE_MS:
 * after it come the thread terminations, the `task-interrupted` events, the pool's close and the
 * invocations' responses, all before the host's kill (they took 0.6–1.4 s on a loaded machine).
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 3_000;

/**
 * What a running task's signal aborts with when its executor shuts down (and what
 * `TaskContext.throwIfInterrupted` throws): Spark's TaskKilledException. A retryable StratusError,
 * so the engine hands it on unwrapped even when user code was running (asUserCodeError).
 */
export class TaskInterruptedError extends StratusError {
  constructor() {
    super('TASK_INTERRUPTED', 'executor is shutting down', {}, { retryable: true });
    this.name = 'TaskInterruptedError';
  }
}

/**
 * The executor is shutting down and did not run (or finish) this task. Retryable: the
 * invocation fails so its message returns to the queue for another executor.
 */
export class ExecutorShutdownError extends StratusError {
  constructor(what: string) {
    super(
      'EXECUTOR_SHUTDOWN',
      `${what}: the executor is shutting down; the task returns to the queue`,
      {},
      {
        retryable: true,
      },
    );
    this.name = 'ExecutorShutdownError';
  }
}

/** The shutdown state of one executor process, and the invocations it must wait for. */
export class ExecutorShutdown {
  private stopping = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly hardStops = new Set<() => void>();

  /** True once shutdown began: new tasks are refused, running ones are interrupted. */
  get isShuttingDown(): boolean {
    return this.stopping;
  }

  /** Invocations still running. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Throw ExecutorShutdownError when shutdown began (`what` names the refused task). */
  refuseIfStopping(what: string): void {
    if (this.stopping) throw new ExecutorShutdownError(what);
  }

  /** Count `work` as in flight until it settles (whatever its outcome); returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return work;
  }

  /** Register how to end one running task at once (terminate its thread); returns the unregister. */
  onHardStop(stop: () => void): () => void {
    this.hardStops.add(stop);
    return () => this.hardStops.delete(stop);
  }

  /**
   * Begin shutdown: refuse new tasks, abort every running task's signal, wait up to `graceMs`
   * for the invocations to end, then terminate the threads of those still running and wait for
   * their invocations to settle. Resolves when no invocation is left.
   */
  async drain(pool: TaskThreadPool | undefined, graceMs: number): Promise<void> {
    this.stopping = true;
    pool?.abortAll();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => {
      timer = setTimeout(() => resolve('grace-over'), graceMs);
    });
    const ended = await Promise.race([Promise.all(this.inFlight).then(() => 'ended' as const), graceOver]);
    clearTimeout(timer);
    if (ended === 'grace-over') for (const stop of [...this.hardStops]) stop();
    await Promise.all(this.inFlight);
  }
}
