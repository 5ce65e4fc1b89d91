import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileCacheDir } from '../../contract/compile-cache.js';
import { CODE_CONTAINER, DATA_CONTAINER, LOGS_CONTAINER } from '../../contract/names.js';
import type { ExecutorHandle } from '../../driver/fabric/executor-process.js';
import { type LocalFabric, startLocalFabric } from '../../driver/fabric/local-fabric.js';
import { runNoop } from '../../driver/ops/noop.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { startChildScript } from '../helpers/child-script.js';
import { FAST_HOST_ENV, suiteConnectionString, uniqueTaskQueue } from '../helpers/fabric.js';
import { isProcessAlive, killIfAlive, waitFor, waitUntilGone } from '../helpers/processes.js';

describe('the local fabric', () => {
  const fabrics: LocalFabric[] = [];
  const pids: number[] = [];
  afterEach(async () => {
    const running = fabrics.splice(0);
    await Promise.all(running.map((f) => f.stop(5_000)));
    killIfAlive([...pids.splice(0), ...running.flatMap((f) => f.executors.map((e) => e.pid))]);
  });

  async function fabric(executors: number, slots: number, label: string): Promise<LocalFabric> {
    const started = await startLocalFabric({
      executors,
      slots,
      queue: uniqueTaskQueue(label),
      connectionString: suiteConnectionString(),
      hostEnv: FAST_HOST_ENV,
      log: () => undefined,
    });
    fabrics.push(started);
    pids.push(...started.executors.map((e) => e.pid));
    return started;
  }

  it('starts N executors with S slots each, after creating the task queue and containers', async () => {
    const f = await fabric(3, 2, 'start');
    expect(f.executors.map((e) => e.executorId)).toEqual(['executor-1', 'executor-2', 'executor-3']);
    expect(f.totalSlots).toBe(6);
    const ready = await Promise.all(f.executors.map((e) => e.ready));
    expect(ready.map((r) => r.slots)).toEqual([2, 2, 2]);
    expect(ready.map((r) => r.queue)).toEqual([f.queue, f.queue, f.queue]);
    expect(new Set(ready.map((r) => r.pid)).size).toBe(3);
    const storage = connectStorage({ connectionString: f.connectionString });
    expect(await new StorageQueue(storage, f.queue).exists()).toBe(true);
    for (const container of [CODE_CONTAINER, DATA_CONTAINER, LOGS_CONTAINER])
      expect(await storage.blobService.getContainerClient(container).exists()).toBe(true);
  });

  it('a noop run completes with every task succeeded, on every executor', async () => {
    const f = await fabric(2, 3, 'noop');
    const summary = await runNoop({
      tasks: 60,
      sleepMs: 20,
      connectionString: f.connectionString,
      queue: f.queue,
      timeoutMs: 60_000,
    });
    expect(summary.succeeded).toBe(60);
    expect(summary.executorsSeen).toEqual(['executor-1', 'executor-2']);
    expect(summary.slots).toBe(6);
    expect(summary.schedulingDelayMs.p99).toBeGreaterThanOrEqual(summary.schedulingDelayMs.p50);
    // 60 tasks of 20 ms on 6 slots: most wait in the queue for a slot, which the scheduling delay excludes.
    expect(summary.queueDelayMs.p50).toBeGreaterThan(summary.schedulingDelayMs.p50);
  });

  it('a noop run with no executor to run it fails with a clear timeout error', async () => {
    const f = await fabric(0, 1, 'timeout');
    const run = runNoop({ tasks: 3, connectionString: f.connectionString, queue: f.queue, timeoutMs: 1_500 });
    await expect(run).rejects.toThrow(/timed out after 1500 ms: 0\/3 tasks succeeded/);
  });

  it('an executor that dies is replaced by a new one, and runs go on', async () => {
    const f = await fabric(2, 2, 'replace');
    const replaced = once(f, 'executor-replaced') as Promise<[ExecutorHandle, ExecutorHandle]>;
    const victim = f.killExecutor('executor-1');
    const [dead, fresh] = await replaced;
    pids.push(fresh.pid);
    expect(dead.executorId).toBe('executor-1');
    expect(fresh.executorId).toBe('executor-3');
    expect(await dead.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(isProcessAlive(victim.pid)).toBe(false);
    expect(f.executors.map((e) => e.executorId).sort()).toEqual(['executor-2', 'executor-3']);
    const summary = await runNoop({
      tasks: 20,
      connectionString: f.connectionString,
      queue: f.queue,
      timeoutMs: 60_000,
    });
    expect(summary.succeeded).toBe(20);
  });

  it('an executor killed while the fabric starts is replaced, and the fabric starts and runs a job', async () => {
    let victim: ExecutorHandle | undefined;
    const started = await startLocalFabric({
      executors: 2,
      slots: 1,
      queue: uniqueTaskQueue('startkill'),
      connectionString: suiteConnectionString(),
      hostEnv: FAST_HOST_ENV,
      log: () => undefined,
      onExecutorSpawned: (handle) => {
        pids.push(handle.pid);
        // The first host dies in its first moments, before its ready line, as a crashed instance.
        if (handle.executorId === 'executor-1') {
          victim = handle;
          process.kill(handle.pid, 'SIGKILL');
        }
      },
    });
    fabrics.push(started);
    expect(victim).toBeDefined();
    expect(await victim!.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(started.executors.map((e) => e.executorId)).toEqual(['executor-2', 'executor-3']);
    const summary = await runNoop({
      tasks: 6,
      connectionString: started.connectionString,
      queue: started.queue,
      timeoutMs: 60_000,
    });
    expect(summary.succeeded).toBe(6);
  });

  it('without waitForExecutors it returns once storage serves; tasks sent at once run when the hosts are up', async () => {
    const queue = uniqueTaskQueue('nowait');
    const started = await startLocalFabric({
      executors: 2,
      slots: 1,
      queue,
      connectionString: suiteConnectionString(),
      hostEnv: FAST_HOST_ENV,
      log: () => undefined,
      waitForExecutors: false,
    });
    fabrics.push(started);
    let ready = false;
    void started.executorsReady.then(() => {
      ready = true;
    });
    // The task queue exists already (the driver can send), and the hosts' processes are spawned.
    expect(
      await new StorageQueue(connectStorage({ connectionString: started.connectionString }), queue).exists(),
    ).toBe(true);
    const summary = await runNoop({
      tasks: 4,
      connectionString: started.connectionString,
      queue,
      timeoutMs: 60_000,
    });
    expect(summary.succeeded).toBe(4);
    await started.executorsReady;
    expect(ready).toBe(true);
    pids.push(...started.executors.map((e) => e.pid));
    expect(started.executors.map((e) => e.executorId)).toEqual(['executor-1', 'executor-2']);
  });

  it('without waitForExecutors, executorsReady rejects with the start error when no host starts', async () => {
    const started = await startLocalFabric({
      executors: 1,
      slots: 1,
      queue: uniqueTaskQueue('nowaitdead'),
      connectionString: suiteConnectionString(),
      hostEnv: FAST_HOST_ENV,
      log: () => undefined,
      waitForExecutors: false,
      onExecutorSpawned: (handle) => {
        pids.push(handle.pid);
        process.kill(handle.pid, 'SIGKILL');
      },
    });
    fabrics.push(started);
    await expect(started.executorsReady).rejects.toThrow(
      /executor executor-3: host exited before it was ready \(code null, signal SIGKILL\)/,
    );
  });

  it('a start given up through its signal stops Azurite and every host it began, and rejects', async () => {
    const giveUp = new AbortController();
    const spawned: number[] = [];
    const start = startLocalFabric({
      executors: 2,
      slots: 1,
      queue: uniqueTaskQueue('giveup'),
      hostEnv: FAST_HOST_ENV,
      log: () => undefined,
      signal: giveUp.signal,
      onExecutorSpawned: (handle) => {
        spawned.push(handle.pid);
        pids.push(handle.pid);
        // Both hosts exist and Azurite is still starting: the run's module failed its checks.
        if (spawned.length === 2) giveUp.abort();
      },
    });
    await expect(start).rejects.toThrow(/Azurite did not start: its start was cancelled/);
    expect(spawned).toHaveLength(2);
    await waitUntilGone(spawned);
  });

  it('a fabric whose executors all die while starting fails to start, after bounded tries', async () => {
    const spawned: string[] = [];
    const start = startLocalFabric({
      executors: 1,
      slots: 1,
      queue: uniqueTaskQueue('startdead'),
      connectionString: suiteConnectionString(),
      hostEnv: FAST_HOST_ENV,
      log: () => undefined,
      onExecutorSpawned: (handle) => {
        spawned.push(handle.executorId);
        pids.push(handle.pid);
        process.kill(handle.pid, 'SIGKILL');
      },
    });
    await expect(start).rejects.toThrow(/host exited before it was ready \(code null, signal SIGKILL\)/);
    expect(spawned).toEqual(['executor-1', 'executor-2', 'executor-3']);
  });

  it('an executor stopped on purpose is not replaced', async () => {
    const f = await fabric(2, 1, 'scalein');
    const exit = await f.stopExecutor('executor-2');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(f.executors.map((e) => e.executorId)).toEqual(['executor-1']);
    expect(f.totalSlots).toBe(1);
  });

  it('stop ends every executor process', async () => {
    const f = await fabric(2, 1, 'stop');
    const hostPids = f.executors.map((e) => e.pid);
    await f.stop();
    await waitUntilGone(hostPids);
  });

  it('with no connection string it starts its own Azurite and the hosts beside it, runs a job, and stop ends all', async () => {
    const spawned: number[] = [];
    const f = await startLocalFabric({
      executors: 2,
      slots: 1,
      queue: uniqueTaskQueue('own'),
      hostEnv: FAST_HOST_ENV,
      log: () => undefined,
      onExecutorSpawned: (handle) => spawned.push(handle.pid),
    });
    fabrics.push(f);
    pids.push(...spawned, f.azuritePid!);
    expect(f.azuritePid).toBeGreaterThan(0);
    expect(f.executors.map((e) => e.pid).sort()).toEqual([...spawned].sort());
    const summary = await runNoop({
      tasks: 8,
      connectionString: f.connectionString,
      queue: f.queue,
      timeoutMs: 60_000,
    });
    expect(summary.succeeded).toBe(8);
    expect(summary.executorsSeen).toEqual(['executor-1', 'executor-2']);
    // Azurite and the hosts load their modules through Node's compile cache (see compile-cache.ts).
    const cacheOf = async (pid: number) =>
      (await readFile(`/proc/${pid}/environ`, 'utf8'))
        .split('\0')
        .find((v) => v.startsWith('NODE_COMPILE_CACHE='));
    const expected = `NODE_COMPILE_CACHE=${compileCacheDir()}`;
    expect(await cacheOf(f.azuritePid!)).toBe(expected);
    for (const pid of spawned) expect(await cacheOf(pid)).toBe(expected);
    await f.stop();
    await waitUntilGone([...spawned, f.azuritePid!]);
  });

  it('a fabric whose Azurite cannot start fails fast with its error and leaves no executor host behind', async () => {
    const spawned: number[] = [];
    // Azurite runs as a child node process with this process's environment: a preload makes it
    // exit with code 7 a moment after its process started. The hosts get a clean NODE_OPTIONS.
    const dir = await mkdtemp(path.join(tmpdir(), 'stratus-azurite-dies-'));
    const preload = path.join(dir, 'exit-soon.cjs');
    await writeFile(preload, 'setTimeout(() => process.exit(7), 300);\n');
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `--require=${preload}`;
    const began = performance.now();
    try {
      const start = startLocalFabric({
        executors: 2,
        slots: 1,
        queue: uniqueTaskQueue('noazurite'),
        hostEnv: { ...FAST_HOST_ENV, NODE_OPTIONS: '' },
        log: () => undefined,
        onExecutorSpawned: (handle) => {
          spawned.push(handle.pid);
          pids.push(handle.pid);
        },
      });
      await expect(start).rejects.toThrow(/Azurite exited during start \(code 7, signal null\)/);
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
      await rm(dir, { recursive: true, force: true });
    }
    // The hosts were spawned beside the starting Azurite, and the failed start stopped them.
    expect(spawned.length).toBe(2);
    expect(spawned.filter(isProcessAlive)).toEqual([]);
    expect(performance.now() - began).toBeLessThan(20_000);
  });

  it('executors and Azurite die with the driver process, even when it is SIGKILLed', async () => {
    // The killed driver cannot remove Azurite's temp folder: give it a temp root this test removes.
    const tempRoot = await mkdtemp(path.join(tmpdir(), 'stratus-killed-driver-'));
    try {
      const { child, firstLine } = await startChildScript<{ azurite: number; executors: number[] }>(
        { fabric: 'driver/fabric/local-fabric.js' },
        [
          'const f = await fabric.startLocalFabric({ executors: 2, slots: 1, log: () => {} });',
          'console.log(JSON.stringify({ azurite: f.azuritePid, executors: f.executors.map((e) => e.pid) }));',
          'setInterval(() => {}, 1000);',
        ].join('\n'),
        { env: { ...process.env, TMPDIR: tempRoot } },
      );
      const all = [firstLine.azurite, ...firstLine.executors];
      pids.push(child.pid!, ...all);
      await waitFor('processes to run', () => all.every(isProcessAlive), 5_000);
      process.kill(child.pid!, 'SIGKILL');
      await waitUntilGone(all);
    } finally {
      await rm(tempRoot, { recursive: true, force: true });
    }
  });
});
