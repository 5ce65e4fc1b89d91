/**
 * The executor's task threads: a killed run's thread is terminated even while it spins, the run
 * resolves `killed` only once the thread has exited (its CPU and memory are free), a new
 * thread takes its place for the next run, and a run killed while queued never starts. A failing
 * task's stack from the packaged task thread names stratus:executor-function/*.ts, not the bundle.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NoopWork } from '../../contract/protocol.js';
import type { TaskRunRequest } from '../../executor-function/task-thread-protocol.js';
import { isCommonJsFile, TaskThreadPool } from '../../executor-function/worker-pool.js';
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

  it('the packaged thread bundle loads as CommonJS and leaves its compiled code in the compile cache', async () => {
    const packaged = builtFile('function-app/task-thread.js');
    expect(isCommonJsFile(packaged)).toBe(true);
    expect(isCommonJsFile(builtFile('executor-function/task-thread.js'))).toBe(false);
    const cache = path.join(tempDir, 'compile-cache');
    const before = process.env.NODE_COMPILE_CACHE;
    process.env.NODE_COMPILE_CACHE = cache;
    const pool = new TaskThreadPool(1, pathToFileURL(packaged));
    try {
      const result = await pool.run(noop(0, {}));
      expect(result.status).toBe('succeeded');
      // Node keeps one folder per Node version and V8 flags, with an entry per compiled file.
      const entries = await readdir(cache, { recursive: true, withFileTypes: true });
      const files = entries.filter((e) => e.isFile());
      expect(files.length).toBeGreaterThan(0);
      const sizes = await Promise.all(
        files.map((f) => stat(path.join(f.parentPath, f.name)).then((s) => s.size)),
      );
      // The bundle's code is in it: more than a megabyte of compiled code.
      expect(Math.max(...sizes)).toBeGreaterThan(1 << 20);
    } finally {
      await pool.close();
      if (before === undefined) delete process.env.NODE_COMPILE_CACHE;
      else process.env.NODE_COMPILE_CACHE = before;
    }
  });

  it('prewarmed threads are started before any run, capped at the pool size, and the runs use them', async () => {
    const pool = new TaskThreadPool(2, pathToFileURL(builtFile('function-app/task-thread.js')));
    try {
      pool.prewarm(5);
      expect(pool.threadCount).toBe(2);
      const results = await Promise.all([pool.run(noop(0, {})), pool.run(noop(1, {}))]);
      expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
      // No thread was started for the runs: they ran on the two already there.
      expect(pool.threadCount).toBe(2);
      pool.prewarm();
      expect(pool.threadCount).toBe(2);
    } finally {
      await pool.close();
    }
    expect(pool.threadCount).toBe(0);
  });
});
