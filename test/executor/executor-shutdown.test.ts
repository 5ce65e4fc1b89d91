/**
 * The shutdown rules of one executor, without a server: new tasks are refused once shutdown
 * begins, running ones get the grace to end, and those that do not are stopped hard after it.
 * Also the executor log's one job: each line names its task and is redacted before any sink.
 */
import { describe, expect, it } from 'vitest';
import { ExecutorShutdown, ExecutorShutdownError } from '../../executor-function/executor-shutdown.js';
import { ExecutorLog, type LogSink } from '../../executor-function/invocation-log.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('ExecutorShutdown', () => {
  it('refuses new tasks once shutdown began, with a retryable error', async () => {
    const shutdown = new ExecutorShutdown();
    expect(() => shutdown.refuseIfStopping('t')).not.toThrow();
    await shutdown.drain(undefined, 10);
    let refused: unknown;
    try {
      shutdown.refuseIfStopping('task j0-s0-p0-a0');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ExecutorShutdownError);
    expect((refused as ExecutorShutdownError).retryable).toBe(true);
  });

  it('waits for in-flight invocations that end within the grace, stopping none', async () => {
    const shutdown = new ExecutorShutdown();
    const work = deferred();
    let hardStopped = false;
    void shutdown.track(work.promise);
    shutdown.onHardStop(() => {
      hardStopped = true;
    });
    const drained = shutdown.drain(undefined, 5_000);
    setTimeout(work.resolve, 20);
    await drained;
    expect(hardStopped).toBe(false);
    expect(shutdown.inFlightCount).toBe(0);
  });

  it('stops hard what is still running after the grace, then waits for it to settle', async () => {
    const shutdown = new ExecutorShutdown();
    const work = deferred();
    const interrupted = shutdown
      .track(work.promise.then(() => Promise.reject(new Error('interrupted'))))
      .catch((error: Error) => error.message);
    shutdown.onHardStop(work.resolve);
    await shutdown.drain(undefined, 30);
    expect(shutdown.inFlightCount).toBe(0);
    expect(await interrupted).toBe('interrupted');
  });
});

describe('ExecutorLog', () => {
  it('names the executor and the task in every line and redacts it before the sink', () => {
    const lines: string[] = [];
    const sink: LogSink = {
      info: (m) => lines.push(`I ${m}`),
      warn: (m) => lines.push(`W ${m}`),
      error: (m) => lines.push(`E ${m}`),
    };
    const log = ExecutorLog.forExecutor('executor-2', sink).forTask('j1-s2-p3-a0', {
      appId: 'app-1',
      jobId: 1,
      stageId: 2,
      partition: 3,
      attempt: 0,
      dequeueCount: 2,
    });
    log.warn('send failed: DefaultEndpointsProtocol=http;AccountName=a;AccountKey=c2VjcmV0c2VjcmV0;');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^W stratus executor executor-2 task j1-s2-p3-a0 \(app app-1 job 1 stage 2 partition 3 attempt 0 delivery 2\): send failed: /,
    );
    expect(lines[0]).not.toContain('c2VjcmV0c2VjcmV0');
  });
});
