/** `stratus status` against Azurite: queue depths and the executors recent event logs name. */
import { describe, expect, it } from 'vitest';
import { appStartTime, collectStatus, formatStatus } from '../../driver/cli-status.js';
import { EventLogWriter } from '../../driver/event-log.js';
import { poisonQueueName } from '../../engine/names.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
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
    for (const [executorId, slot] of [
      ['executor-7', 0],
      ['executor-7', 1],
      ['executor-8', 0],
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
      ['executor-7', 2, 2],
      ['executor-8', 1, 1],
    ]);
    expect(formatStatus(status, now + 10)).toContain(`task queue:    ${queue}: 3 messages waiting`);
    await Promise.all([tasks.destroy(), poison.destroy()]);
  });

  it('reads the start time an application id carries', () => {
    expect(appStartTime(`app-${(1_700_000_000_000).toString(36)}-abcd1234`)).toBe(1_700_000_000_000);
    expect(appStartTime('custom-id')).toBeUndefined();
  });
});
