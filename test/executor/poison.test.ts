/**
 * Retries and poison messages: a failing task is retried until maxDequeueCount and then moved to
 * `<queue>-poison`; a body that is not base64, or a message already past maxDequeueCount, is
 * poisoned without invoking the function.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../contract/protocol.js';
import { type ExecutorHost, type TaskChannel, useHostFleet, waitFor } from './harness.js';

const env = useHostFleet();

/** Wait until the poison queue holds a message; returns its text. */
async function poisoned(c: TaskChannel): Promise<string> {
  return waitFor(`a message in ${c.poison.name}`, async () => {
    if (!(await c.poison.exists())) return undefined;
    const [message] = await c.poison.receive(1, 30);
    return message?.text;
  });
}

/** A ready one-slot host on `c`'s queue; with `maxDequeueCount`, the host.json override of it. */
async function readyHost(c: TaskChannel, maxDequeueCount?: number): Promise<ExecutorHost> {
  const host = env.fleet.start({
    queue: c.name,
    slots: 1,
    ...(maxDequeueCount !== undefined
      ? { env: { AzureFunctionsJobHost__extensions__queues__maxDequeueCount: String(maxDequeueCount) } }
      : {}),
  });
  await host.ready();
  return host;
}

/** Send a hand-made task message on `c`: `fields` over a noop task of c's application, base64 as the host reads it. */
async function sendRawTask(c: TaskChannel, fields: Record<string, unknown>): Promise<void> {
  const message = {
    v: 1,
    type: 'task',
    appId: c.name,
    jobId: 0,
    stageId: 0,
    partition: 0,
    attempt: 0,
    eventsQueue: c.eventsQueue.name,
    sentAt: Date.now(),
    work: { kind: 'noop' },
    ...fields,
  };
  await c.tasks.send(Buffer.from(JSON.stringify(message)).toString('base64'));
}

describe('retries and the poison queue', () => {
  it('retries a failing task and moves it to <queue>-poison after maxDequeueCount deliveries', async () => {
    const c = await env.channels.open('retry');
    await readyHost(c, 3);
    const wire = await c.sendNoop(0, { failUntilDequeue: 1000 });
    expect(await poisoned(c)).toBe(wire);
    const failures = await c.waitForEvents('task-failed', 3);
    expect(failures.map((e) => e.dequeueCount)).toEqual([1, 2, 3]);
    expect(failures[0]?.error.name).toBe('NoopTaskFailure');
    // The host copies a message to the poison queue, then deletes it from the task queue.
    await waitFor(
      'the host to delete the poisoned message',
      async () => (await c.tasks.approximateLength()) === 0,
    );
  });

  it('succeeds on a retry when the failure is transient', async () => {
    const c = await env.channels.open('transient');
    await readyHost(c);
    await c.sendNoop(0, { failUntilDequeue: 2 });
    const [done] = await c.waitForEvents('task-succeeded', 1);
    expect(done?.dequeueCount).toBe(3);
    expect(c.eventsOf('task-failed').map((e) => e.dequeueCount)).toEqual([1, 2]);
    expect(await c.poison.exists()).toBe(false);
  });

  it('poisons a body that is not valid base64 without invoking the function', async () => {
    const c = await env.channels.open('nob64');
    const host = await readyHost(c);
    await c.tasks.send('this is {not} base64!');
    expect(await poisoned(c)).toBe('this is {not} base64!');
    await waitFor('the poison line', () => host.linesOf('poison')[0]);
    expect(host.linesOf('invocation-start')).toHaveLength(0);
  });

  it('poisons a message received already past maxDequeueCount without invoking the function', async () => {
    const c = await env.channels.open('past');
    const wire = await c.sendNoop(0);
    // Deliver it twice by hand (lease 1 s each), so the host receives it with dequeueCount 3 > 2.
    for (let i = 0; i < 2; i++) {
      await waitFor('the message to be visible', async () => (await c.tasks.receive(1, 1)).length === 1);
    }
    const host = await readyHost(c, 2);
    expect(await poisoned(c)).toBe(wire);
    // The host moves the message first and logs after; the log line arrives on its own pipe.
    const line = await waitFor('the host to log the poisoning', async () => host.linesOf('poison')[0]);
    expect(line.dequeueCount).toBe(3);
    expect(host.linesOf('invocation-start')).toHaveLength(0);
  });

  it('reports a message that fails validation as task-rejected naming the field, then the host poisons it', async () => {
    const c = await env.channels.open('invalid');
    await readyHost(c, 1);
    await sendRawTask(c, { partition: 7, work: { kind: 'teleport' } });
    const [rejected] = await c.waitForEvents('task-rejected', 1);
    expect(rejected).toMatchObject({ reason: 'invalid', partition: 7, field: 'work.kind' });
    expect(rejected?.message).toMatch(/work/);
    await poisoned(c);
  });

  it('answers a message of another protocol version in its own version, naming the field and both versions', async () => {
    const c = await env.channels.open('version');
    const host = await readyHost(c, 1);
    await sendRawTask(c, {
      v: 2,
      jobId: 3,
      stageId: 4,
      partition: 5,
      attempt: 1,
      work: { kind: 'noop', renamedInV2: true },
    });
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
    const c = await env.channels.open('elsewhere');
    const other = env.storage.queue(`${c.name}-other`);
    await other.ensure();
    try {
      const host = await readyHost(c, 1);
      await sendRawTask(c, { v: 2, eventsQueue: other.name });
      await poisoned(c);
      await waitFor('the host to finish the invocation', () => host.linesOf('invocation-end')[0]);
      expect(await other.peek(32)).toEqual([]);
      expect(c.eventsOf('task-rejected')).toEqual([]);
    } finally {
      await other.destroy();
    }
  });

  it('drops a task whose application ended (its events queue is gone) after it ran, instead of retrying it', async () => {
    const c = await env.channels.open('app-ended');
    const host = await readyHost(c);
    await sendRawTask(c, { eventsQueue: `${c.eventsQueue.name}-gone` });
    const end = await waitFor('the host to finish the invocation', () => host.linesOf('invocation-end')[0]);
    // Settled as a success: the host deletes the message, so no delivery runs it again.
    expect(end.ok).toBe(true);
    // The host logs the end before it settles the message: wait for the delete. A message released
    // for a retry stays counted (invisible messages count), so this wait fails on a retry.
    await waitFor('the host to delete the message', async () => (await c.tasks.approximateLength()) === 0);
    expect(host.linesOf('invocation-start')).toHaveLength(1);
    expect(await c.poison.exists()).toBe(false);
  });
});
