/**
 * The executor's task threads: a killed run's thread is terminated even while it spins, the run
 * resolves `killed` only once the thread has exited (its CPU and memory are free), a new
 * thread takes its place for the next run, and a run killed while queued never starts. A failing
 * task's stack from the packaged task thread names stratus:executor-function/*.ts, not the bundle.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NoopWork } from '../../contract/protocol.js';
import type { TaskRunRequest } from '../../executor-function/task-thread-protocol.js';
import { TaskThreadPool } from '../../executor-function/worker-pool.js';
import { builtFile } from '../helpers/dist.js';
import { waitFor } from '../helpers/processes.js';

let tempDir: string;
const entry = () => pathToFileURL(builtFile('executor-function/task-thread.js'));

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(tmpdir(), 'stratus-task-threads-'));
});
afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

function noop(partition: number, work: Partial<Omit<NoopWork, 'kind'>>): TaskRunRequest {
  return {
    message: {
      v: 1,
      type: 'task',
      appId: 'task-threads-test',
      jobId: 0,
      stageId: 0,
      partition,
      attempt: 0,
      eventsQueue: 'stratus-events-task-threads-test',
      sentAt: Date.now(),
      work: { kind: 'noop', ...work },
    },
    executorId: 'executor-test',
    slot: 0,
    dequeueCount: 1,
    nonce: '00000000',
    tempDir,
  };
}

describe('task threads', () => {
  it('a killed run stops its spinning thread, and a new thread runs the next task', async () => {
    const pool = new TaskThreadPool(1, entry());
    try {
      const kill = new AbortController();
      const cpuAtStart = process.cpuUsage();
      const spinning = pool.run(noop(0, { busyMs: 600_000 }), kill.signal);
      expect(pool.threadCount).toBe(1);
      // This process has burnt far more CPU than starting a thread costs: the task is spinning.
      await waitFor('the task thread to spin', () => process.cpuUsage(cpuAtStart).user > 1_500_000);
      kill.abort();
      const killedAt = performance.now();
      expect(await spinning).toEqual({ status: 'killed' });
      // Resolved after the thread exited: a ten-minute spin ended within a couple of seconds.
      expect(performance.now() - killedAt).toBeLessThan(5000);
      expect(pool.threadCount).toBe(0);
      expect(pool.threadsTerminated).toBe(1);
      const next = await pool.run(noop(1, { busyMs: 10 }));
      expect(next.status).toBe('succeeded');
      expect(pool.threadCount).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('a run killed while it waits for a thread never starts', async () => {
    const pool = new TaskThreadPool(1, entry());
    try {
      const first = pool.run(noop(0, { sleepMs: 300 }));
      const kill = new AbortController();
      const queued = pool.run(noop(1, { busyMs: 600_000 }), kill.signal);
      kill.abort();
      expect(await queued).toEqual({ status: 'killed' });
      expect(pool.threadsTerminated).toBe(0);
      expect((await first).status).toBe('succeeded');
    } finally {
      await pool.close();
    }
  });

  it('a failing task of the packaged task thread reports a stack whose executor frames name stratus:executor-function/*.ts', async () => {
    // dist/function-app/task-thread.js is the one bundle deployed; its map is linked beside it.
    const pool = new TaskThreadPool(1, pathToFileURL(builtFile('function-app/task-thread.js')));
    try {
      const result = await pool.run(noop(0, { failUntilDequeue: 1 }));
      expect(result.status).toBe('failed');
      const stack = result.status === 'failed' ? (result.error.stack ?? '') : '';
      expect(stack).toMatch(/^NoopTaskFailure: noop task fails on purpose/);
      // Named by their path in the package, not resolved against the folder the app sits in
      // (/home/site/wwwroot on Azure, where `../../engine/…` made `/home/engine/…`).
      expect(stack).toMatch(/at runNoopTask \(stratus:executor-function\/noop-task\.ts:\d+:\d+\)/);
      expect(stack).toMatch(/ \(stratus:executor-function\/task-thread\.ts:\d+:\d+\)/);
      expect(stack).not.toMatch(/task-thread\.js:\d+/);
      expect(stack).not.toMatch(/\(\/[^)]*\/(?:engine|executor-function|contract)\//);
    } finally {
      await pool.close();
    }
  });
});
