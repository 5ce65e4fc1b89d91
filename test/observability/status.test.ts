/** `stratus status` against Azurite: queue depths and the executors recent event logs name. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { poisonQueueName } from '../../contract/names.js';
import { EventLogWriter } from '../../driver/observe/event-log.js';
import { collectStatus, formatStatus } from '../../driver/ops/status.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { builtFile } from '../helpers/dist.js';
import { suiteConnectionString, uniqueTaskQueue } from '../helpers/fabric.js';

describe('stratus status', () => {
  it('reports task and poison queue depths and the executors seen in recent event logs', async () => {
    const connection = connectStorage({ connectionString: suiteConnectionString() });
    const queue = uniqueTaskQueue('status');
    const tasks = new StorageQueue(connection, queue);
    const poison = new StorageQueue(connection, poisonQueueName(queue));
    await Promise.all([tasks.ensure(), poison.ensure()]);
    await Promise.all([tasks.send('e30='), tasks.send('e30='), tasks.send('e30='), poison.send('e30=')]);

    const now = Date.now();
    const appId = `app-${now.toString(36)}-5a7e5a7e`;
    const writer = new EventLogWriter({ blobs: new BlobStore(connection) });
    writer.onEvent({
      type: 'app-start',
      at: now,
      logVersion: 1,
      appId,
      name: 's',
      mode: 'connect',
      taskQueue: queue,
      totalSlots: 3,
      defaultParallelism: 3,
    });
    // Executor ids of this test only: status aggregates an executor's slots and tasks across every
    // application in the window, and the suite's own runs use names like executor-7.
    const [seven, eight] = [`executor-7-${now.toString(36)}`, `executor-8-${now.toString(36)}`];
    for (const [executorId, slot] of [
      [seven, 0],
      [seven, 1],
      [eight, 0],
    ] as const) {
      const base = {
        appId,
        jobId: 0,
        stageId: 0,
        partition: slot,
        attempt: 0,
        executorId,
        slot,
        launchedAt: now,
      };
      writer.onEvent({ ...base, type: 'task-start', at: now + 1 });
      writer.onEvent({ ...base, type: 'task-end', at: now + 2, status: 'succeeded' });
    }
    await writer.close();

    const status = await collectStatus(connection, { taskQueue: queue, windowMs: 60_000, now: now + 10 });
    expect(status.taskQueueDepth).toBe(3);
    expect(status.poisonQueueDepth).toBe(1);
    expect(status.recentApplications).toContainEqual({ appId, status: 'running' });
    const mine = status.executors.filter((e) => e.appIds.includes(appId));
    expect(mine.map((e) => [e.executorId, e.slots, e.tasks])).toEqual([
      [seven, 2, 2],
      [eight, 1, 1],
    ]);
    expect(formatStatus(status, now + 10)).toContain(`task queue:    ${queue}: 3 messages waiting`);
    await Promise.all([tasks.destroy(), poison.destroy()]);
  });

  it('keeps an application started long ago that is still running, with its executors, and drops logs idle past the window', async () => {
    const connection = connectStorage({ connectionString: suiteConnectionString() });
    const now = Date.now();
    const started = now - 40 * 60_000;
    const appId = `app-${started.toString(36)}-01d5a7e5`;
    const [e31, e32] = [`executor-31-${now.toString(36)}`, `executor-32-${now.toString(36)}`];
    const writer = new EventLogWriter({ blobs: new BlobStore(connection) });
    writer.onEvent({
      type: 'app-start',
      at: started,
      logVersion: 1,
      appId,
      name: 'long.ts',
      mode: 'connect',
      taskQueue: 'q',
      totalSlots: 2,
      defaultParallelism: 2,
    });
    const task = (executorId: string, partition: number, startAt: number) => ({
      appId,
      jobId: 0,
      stageId: 3,
      partition,
      attempt: 0,
      executorId,
      slot: 0,
      launchedAt: startAt,
    });
    // executor-31 finished a task a minute ago; executor-32 has been running one for 30 minutes.
    writer.onEvent({ ...task(e31, 0, now - 120_000), type: 'task-start', at: now - 120_000 });
    writer.onEvent({
      ...task(e31, 0, now - 120_000),
      type: 'task-end',
      at: now - 60_000,
      status: 'succeeded',
    });
    writer.onEvent({
      ...task(e32, 1, now - 30 * 60_000),
      type: 'task-start',
      at: now - 30 * 60_000,
    });
    await writer.close();

    const status = await collectStatus(connection, { windowMs: 15 * 60_000, now });
    expect(status.recentApplications).toContainEqual({ appId, status: 'running' });
    const mine = status.executors.filter((e) => e.appIds.includes(appId));
    expect(mine.map((e) => [e.executorId, e.tasks, e.lastSeenAt >= now - 60_000])).toEqual([
      [e31, 1, true],
      [e32, 0, true],
    ]);
    // Seen from 20 minutes later, nothing was appended within the window: the log is not read.
    const later = await collectStatus(connection, { windowMs: 15 * 60_000, now: Date.now() + 20 * 60_000 });
    expect(later.recentApplications.map((a) => a.appId)).not.toContain(appId);
  });

  it('the CLI looks at STRATUS_TASK_QUEUE when --queue is not given, as the other commands do', async () => {
    const connection = connectStorage({ connectionString: suiteConnectionString() });
    const queue = uniqueTaskQueue('status-env');
    const tasks = new StorageQueue(connection, queue);
    await tasks.ensure();
    await Promise.all([tasks.send('e30='), tasks.send('e30=')]);
    const status = async (...args: string[]) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [builtFile('driver/cli.js'), 'status', '--json', ...args],
        { env: { ...process.env, STRATUS_CONNECTION: suiteConnectionString(), STRATUS_TASK_QUEUE: queue } },
      );
      return JSON.parse(stdout) as { taskQueue: string; taskQueueDepth: number };
    };
    try {
      expect(await status()).toMatchObject({ taskQueue: queue, taskQueueDepth: 2 });
      // The flag still wins over the environment.
      expect((await status('--queue', 'stratus-tasks')).taskQueue).toBe('stratus-tasks');
    } finally {
      await tasks.destroy();
    }
  });
});
