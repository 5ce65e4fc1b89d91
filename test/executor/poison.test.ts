/**
 * Retries and poison messages: a failing task is retried until maxDequeueCount and then moved to
 * `<queue>-poison`; a body that is not base64, or a message already past maxDequeueCount, is
 * poisoned without invoking the function.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../engine/protocol.js';
import { HostFleet, TaskChannel, TestStorage, uniqueQueueName, waitFor } from './harness.js';

let storage: TestStorage;
let fleet: HostFleet;
const channels: TaskChannel[] = [];

beforeAll(async () => {
  storage = await TestStorage.open();
  fleet = new HostFleet(storage);
});

afterAll(async () => {
  await fleet?.killAll();
  await Promise.all(channels.map((c) => c.close()));
  await storage?.close();
});

async function channel(label: string): Promise<TaskChannel> {
  const c = new TaskChannel(storage, uniqueQueueName(label));
  await c.open();
  channels.push(c);
  return c;
}

/** Wait until the poison queue holds a message; returns its text. */
async function poisoned(c: TaskChannel): Promise<string> {
  return waitFor(`a message in ${c.poison.name}`, async () => {
    if (!(await c.poison.exists())) return undefined;
    const [message] = await c.poison.receive(1, 30);
    return message?.text;
  });
}

describe('retries and the poison queue', () => {
  it('retries a failing task and moves it to <queue>-poison after maxDequeueCount deliveries', async () => {
    const c = await channel('retry');
    const host = fleet.start({
      queue: c.name,
      slots: 1,
      env: { AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '3' },
    });
    await host.ready();
    const wire = await c.sendNoop(0, { failUntilDequeue: 1000 });
    expect(await poisoned(c)).toBe(wire);
    const failures = await c.waitForEvents('task-failed', 3);
    expect(failures.map((e) => e.dequeueCount)).toEqual([1, 2, 3]);
    expect(failures[0]?.error.name).toBe('NoopTaskFailure');
    expect(await c.tasks.approximateLength()).toBe(0);
  });

  it('succeeds on a retry when the failure is transient', async () => {
    const c = await channel('transient');
    const host = fleet.start({ queue: c.name, slots: 1 });
    await host.ready();
    await c.sendNoop(0, { failUntilDequeue: 2 });
    const [done] = await c.waitForEvents('task-succeeded', 1);
    expect(done?.dequeueCount).toBe(3);
    expect(c.eventsOf('task-failed').map((e) => e.dequeueCount)).toEqual([1, 2]);
    expect(await c.poison.exists()).toBe(false);
  });

  it('poisons a body that is not valid base64 without invoking the function', async () => {
    const c = await channel('nob64');
    const host = fleet.start({ queue: c.name, slots: 1 });
    await host.ready();
    await c.tasks.send('this is {not} base64!');
    expect(await poisoned(c)).toBe('this is {not} base64!');
    await waitFor('the poison line', () => host.linesOf('poison')[0]);
    expect(host.linesOf('invocation-start')).toHaveLength(0);
  });

  it('poisons a message received already past maxDequeueCount without invoking the function', async () => {
    const c = await channel('past');
    const wire = await c.sendNoop(0);
    // Deliver it twice by hand (lease 1 s each), so the host receives it with dequeueCount 3 > 2.
    for (let i = 0; i < 2; i++) {
      await waitFor('the message to be visible', async () => (await c.tasks.receive(1, 1)).length === 1);
    }
    const host = fleet.start({
      queue: c.name,
      slots: 1,
      env: { AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2' },
    });
    await host.ready();
    expect(await poisoned(c)).toBe(wire);
    // The host moves the message first and logs after; the log line arrives on its own pipe.
    const line = await waitFor('the host to log the poisoning', async () => host.linesOf('poison')[0]);
    expect(line.dequeueCount).toBe(3);
    expect(host.linesOf('invocation-start')).toHaveLength(0);
  });

  it('reports a message that fails validation as task-rejected naming the field, then the host poisons it', async () => {
    const c = await channel('invalid');
    const host = fleet.start({
      queue: c.name,
      slots: 1,
      env: { AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '1' },
    });
    await host.ready();
    const bad = {
      v: 1,
      type: 'task',
      appId: c.name,
      jobId: 0,
      stageId: 0,
      partition: 7,
      attempt: 0,
      eventsQueue: c.eventsQueue.name,
      sentAt: Date.now(),
      work: { kind: 'teleport' },
    };
    await c.tasks.send(Buffer.from(JSON.stringify(bad)).toString('base64'));
    const [rejected] = await c.waitForEvents('task-rejected', 1);
    expect(rejected).toMatchObject({ reason: 'invalid', partition: 7, field: 'work.kind' });
    expect(rejected?.message).toMatch(/work/);
    await poisoned(c);
  });

  it('answers a message of another protocol version in its own version, naming the field and both versions', async () => {
    const c = await channel('version');
    const host = fleet.start({
      queue: c.name,
      slots: 1,
      env: { AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '1' },
    });
    await host.ready();
    const future = {
      v: 2,
      type: 'task',
      appId: c.name,
      jobId: 3,
      stageId: 4,
      partition: 5,
      attempt: 1,
      eventsQueue: c.eventsQueue.name,
      sentAt: Date.now(),
      work: { kind: 'noop', renamedInV2: true },
    };
    await c.tasks.send(Buffer.from(JSON.stringify(future)).toString('base64'));
    const [rejected] = await c.waitForEvents('task-rejected', 1);
    expect(rejected).toMatchObject({
      v: PROTOCOL_VERSION,
      reason: 'invalid',
      field: 'v',
      jobId: 3,
      stageId: 4,
      partition: 5,
      attempt: 1,
    });
    expect(rejected?.message).toContain('protocol version 2');
    expect(rejected?.message).toContain(`expected version ${PROTOCOL_VERSION}`);
    expect(host.linesOf('invocation-start')).toHaveLength(1);
    await poisoned(c);
  });

  it('sends a rejection only to the events queue of the application the message names', async () => {
    const c = await channel('elsewhere');
    const other = storage.queue(`${c.name}-other`);
    await other.ensure();
    try {
      const host = fleet.start({
        queue: c.name,
        slots: 1,
        env: { AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '1' },
      });
      await host.ready();
      const bad = {
        v: 2,
        type: 'task',
        appId: c.name,
        jobId: 0,
        stageId: 0,
        partition: 0,
        attempt: 0,
        eventsQueue: other.name,
        sentAt: Date.now(),
        work: { kind: 'noop' },
      };
      await c.tasks.send(Buffer.from(JSON.stringify(bad)).toString('base64'));
      await poisoned(c);
      await waitFor('the host to finish the invocation', () => host.linesOf('invocation-end')[0]);
      expect(await other.peek(32)).toEqual([]);
      expect(c.eventsOf('task-rejected')).toEqual([]);
    } finally {
      await other.destroy();
    }
  });
});
