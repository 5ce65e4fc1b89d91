/**
 * The local host's lifecycle and its fidelity to the Functions Node worker: it refuses to start
 * when the app registers no function, backs off while idle, stops gracefully, and hands the
 * handler the JSON-parsed body (a string when the body is not JSON).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWire } from '../../contract/protocol.js';
import { HostFleet, TaskChannels, TestStorage, uniqueQueueName, waitFor } from './harness.js';

let storage: TestStorage;
let fleet: HostFleet;
let channels: TaskChannels;
const dirs: string[] = [];

beforeAll(async () => {
  storage = await TestStorage.open();
  fleet = new HostFleet(storage);
  channels = new TaskChannels(storage);
});

afterAll(async () => {
  await fleet?.killAll();
  await channels?.closeAll();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  await storage?.close();
});

const functionsLibrary = createRequire(import.meta.url).resolve('@azure/functions');

/** A throwaway function app whose entry point is `source` (CommonJS). */
async function functionApp(source: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stratus-test-app-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ main: 'index.js', type: 'commonjs' }));
  await writeFile(path.join(dir, 'host.json'), JSON.stringify({ version: '2.0' }));
  await writeFile(path.join(dir, 'index.js'), source);
  return dir;
}

describe('local host lifecycle', () => {
  it('refuses to start, loudly, when the app registers no function', async () => {
    const appDir = await functionApp('module.exports = {};\n');
    const host = fleet.start({ queue: uniqueQueueName('none'), appDir });
    expect(await host.exited()).not.toBe(0);
    expect(host.stderr).toMatch(/no function was registered/);
    expect(host.linesOf('ready')).toHaveLength(0);
  });

  it('refuses to start when the entry point throws before registering', async () => {
    const appDir = await functionApp("throw new Error('settings missing');\n");
    const host = fleet.start({ queue: uniqueQueueName('throws'), appDir });
    expect(await host.exited()).not.toBe(0);
    expect(host.stderr).toMatch(/unable to load entry point.*settings missing/);
  });

  it('backs off exponentially while idle and polls quickly again after a message', async () => {
    const c = await channels.open('idle');
    const host = fleet.start({
      queue: c.name,
      slots: 1,
      env: { AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:02' },
    });
    await host.ready();
    const gaps = () => {
      const polls = host.linesOf('poll').map((p) => p.at);
      return polls.slice(1).map((at, i) => at - polls[i]!);
    };
    // Wait until the backoff reaches maxPollingInterval (2 s, ±timer slack).
    await waitFor('the poll interval to reach 2 s', () => gaps().some((g) => g >= 1900), 15_000);
    const idle = gaps();
    const toCap = idle.findIndex((g) => g >= 1900);
    // 100 ms doubling with ±20 % jitter reaches 2 s in a handful of polls, each gap longer than the last.
    expect(toCap).toBeLessThanOrEqual(8);
    for (let i = 1; i <= toCap; i++) expect(idle[i]!).toBeGreaterThan(idle[i - 1]! - 20);
    expect(idle[0]!).toBeLessThan(400);
    // A message resets the backoff to the minimum.
    const pollsBefore = host.linesOf('poll').length;
    await c.sendNoop(0);
    await c.waitForEvents('task-succeeded', 1);
    await waitFor('two empty polls after the message', () => {
      const after = host.linesOf('poll').slice(pollsBefore);
      const firstHit = after.findIndex((p) => p.received > 0);
      const empties = firstHit >= 0 ? after.slice(firstHit + 1).filter((p) => p.received === 0) : [];
      return empties.length >= 2 ? empties : undefined;
    }).then(([first, second]) => expect(second!.at - first!.at).toBeLessThan(400));
  });

  it('does not create a missing trigger queue: it says so once and keeps polling until the queue appears', async () => {
    const name = uniqueQueueName('late');
    const host = fleet.start({ queue: name, slots: 1 });
    await host.ready();
    await waitFor('the missing-queue warning', () =>
      host.stderr.includes(`trigger queue ${name} does not exist`),
    );
    expect(await storage.queue(name).exists()).toBe(false);
    const c = await channels.openOn(name);
    await c.sendNoop(0);
    await c.waitForEvents('task-succeeded', 1);
    expect(host.stderr.split('does not exist').length - 1).toBe(1);
  });

  it('stops on SIGTERM: no more fetching, the in-flight task is told to stop and its message released, exit code 0', async () => {
    const c = await channels.open('stop');
    const host = fleet.start({ queue: c.name, slots: 2 });
    await host.ready();
    await c.sendNoop(0, { sleepMs: 2500 });
    await c.waitForEvents('task-started', 1);
    host.signal('SIGTERM');
    await waitFor('the host to stop fetching', () => host.stderr.includes('SIGTERM: no more fetching'));
    await c.sendNoop(1);
    expect(await host.exited()).toBe(0);
    expect(c.eventsOf('task-succeeded')).toHaveLength(0);
    // the interrupted task is back on the queue, beside the one sent after SIGTERM (never fetched)
    expect(await c.tasks.approximateLength()).toBe(2);
  });

  it('hands the handler the JSON-parsed body, or the string when the body is not JSON', async () => {
    const c = await channels.open('json');
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'stratus-probe-')), 'calls.jsonl');
    dirs.push(path.dirname(out));
    const appDir = await functionApp(`
const { app } = require(${JSON.stringify(functionsLibrary)});
const fs = require('node:fs');
app.storageQueue('probe', {
  queueName: '%STRATUS_TASK_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: async (item, context) => {
    fs.appendFileSync(${JSON.stringify(out)}, JSON.stringify({ type: typeof item, item, meta: context.triggerMetadata }) + '\\n');
  },
});
`);
    const host = fleet.start({ queue: c.name, slots: 1, appDir });
    await host.ready();
    await c.tasks.send(encodeWire({ hello: 'world', n: 3 }));
    await c.tasks.send(Buffer.from('plain words').toString('base64'));
    const calls = await waitFor('two handler calls', async () => {
      const text = await readFile(out, 'utf8').catch(() => '');
      const lines = text.trim().split('\n').filter(Boolean);
      return lines.length >= 2 ? lines.map((l) => JSON.parse(l)) : undefined;
    });
    const object = calls.find((call) => call.type === 'object');
    const text = calls.find((call) => call.type === 'string');
    expect(object?.item).toEqual({ hello: 'world', n: 3 });
    expect(object?.meta).toMatchObject({
      dequeueCount: 1,
      hello: 'world',
      queueTrigger: { hello: 'world', n: 3 },
    });
    expect(typeof object?.meta.id).toBe('string');
    expect(typeof object?.meta.popReceipt).toBe('string');
    expect(object?.meta.insertionTime).toMatch(/^\d{4}-\d\d-\d\dT.*\+00:00$/);
    expect(text?.item).toBe('plain words');
  });

  it('counts a handler that throws undefined as a success, as the Node worker does', async () => {
    const c = await channels.open('undef');
    const appDir = await functionApp(`
const { app } = require(${JSON.stringify(functionsLibrary)});
app.storageQueue('thrower', {
  queueName: '%STRATUS_TASK_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: async () => {
    throw undefined;
  },
});
`);
    const host = fleet.start({ queue: c.name, slots: 1, appDir });
    await host.ready();
    await c.tasks.send(encodeWire({ any: 'thing' }));
    const [end] = await waitFor('the invocation to end', () => {
      const ends = host.linesOf('invocation-end');
      return ends.length > 0 ? ends : undefined;
    });
    expect(end?.ok).toBe(true);
    await waitFor('the message to be deleted', async () => (await c.tasks.approximateLength()) === 0);
    expect(host.linesOf('invocation-start')).toHaveLength(1);
  });
});
