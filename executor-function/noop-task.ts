/**
 * The built-in `noop` work kind, used by fabric tests and the throughput benchmark: it holds a
 * slot (`sleepMs`), burns CPU (`busyMs`, to prove slots run in parallel on separate cores) and
 * fails on purpose while the delivery count is low (`failUntilDequeue`, to exercise retries).
 */
import type { NoopWork } from '../contract/protocol.js';
import type { TaskContext, TaskOutcome, WorkKindRunner } from './work-kind-runner.js';

/** Thrown by a noop task asked to fail on this delivery. */
export class NoopTaskFailure extends Error {
  constructor(dequeueCount: number, failUntilDequeue: number) {
    super(`noop task fails on purpose: delivery ${dequeueCount} ≤ failUntilDequeue ${failUntilDequeue}`);
    this.name = 'NoopTaskFailure';
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Spin this thread's CPU for `ms` milliseconds (deliberately blocking: it runs in a task thread). */
function spin(ms: number): number {
  const end = performance.now() + ms;
  let iterations = 0;
  while (performance.now() < end) iterations++;
  return iterations;
}

/** Run one noop task. */
export const runNoopTask: WorkKindRunner<NoopWork> = async (
  work: NoopWork,
  context: TaskContext,
): Promise<TaskOutcome> => {
  const started = performance.now();
  if (context.dequeueCount <= work.failUntilDequeue) {
    throw new NoopTaskFailure(context.dequeueCount, work.failUntilDequeue);
  }
  if (work.sleepMs > 0) await sleep(work.sleepMs, context.signal);
  if (work.busyMs > 0) spin(work.busyMs);
  return { metrics: { durationMs: performance.now() - started } };
};
