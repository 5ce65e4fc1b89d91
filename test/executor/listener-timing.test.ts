/**
 * The queue listener's timing, measured where it costs: at storage. A pass-through proxy in
 * front of Azurite sees every request the host makes (no mock: the requests reach Azurite
 * unchanged), so idle polling is counted as the storage account would bill it; and a failed
 * message's redelivery is timed against the host's visibilityTimeout.
 *
 * The documented behaviour (host.json reference, `extensions.queues`; the queue trigger's
 * polling algorithm): empty polls back off from 100 ms, doubling with ±20 % jitter, up to
 * maxPollingInterval; a failed message becomes visible again after visibilityTimeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountedRequest, RequestCounter } from '../../storage/testing/request-counter.js';
import {
  type ExecutorHost,
  HostFleet,
  type TaskChannel,
  TaskChannels,
  TestStorage,
  waitFor,
} from './harness.js';

let storage: TestStorage;
let fleet: HostFleet;
let proxy: RequestCounter;
let channels: TaskChannels;

beforeAll(async () => {
  storage = await TestStorage.open();
  fleet = new HostFleet(storage);
  channels = new TaskChannels(storage);
  proxy = await RequestCounter.startFor(storage.connectionString);
});

afterAll(async () => {
  await fleet?.killAll();
  await channels?.closeAll();
  await proxy?.stop();
  await storage?.close();
});

/** Receive requests on `queue` as they reach storage, from now on. */
function recordReceives(queue: string): { requests: CountedRequest[]; stop: () => void } {
  const requests: CountedRequest[] = [];
  const stop = proxy.onRequest((r) => {
    if (r.kind === 'queue:receive' && r.path.endsWith(`/${queue}/messages`)) requests.push(r);
  });
  return { requests, stop };
}

/** A ready one-slot host on `c`'s queue whose every storage request passes the counting proxy. */
async function proxiedHost(c: TaskChannel, env: Record<string, string>): Promise<ExecutorHost> {
  const host = fleet.start({
    queue: c.name,
    slots: 1,
    env: { AzureWebJobsStorage: proxy.connectionString, ...env },
  });
  await host.ready();
  return host;
}

const MIN_POLL_MS = 100;
const JITTER = 0.2;

/**
 * The empty-poll delays the documented rule allows, k = 0, 1, …: the first is the minimum,
 * then minimum + factor × 2^(k-1) × minimum for a factor in [0.8, 1.2), capped at the maximum.
 */
function allowedDelay(k: number, maxMs: number): { low: number; high: number } {
  if (k === 0) return { low: MIN_POLL_MS, high: MIN_POLL_MS };
  const step = (factor: number) => Math.min(maxMs, MIN_POLL_MS + factor * 2 ** (k - 1) * MIN_POLL_MS);
  return { low: step(1 - JITTER), high: step(1 + JITTER) };
}

describe('queue listener timing at storage', () => {
  it('an idle host makes far fewer receive requests than a fixed 100 ms poll, backing off by doubling to maxPollingInterval', async () => {
    const maxMs = 2000;
    const c = await channels.open('idle-count');
    const receives = recordReceives(c.name);
    await proxiedHost(c, { AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:02' });
    // Until the delay has been at the maximum for three polls in a row.
    const gapsOf = () => receives.requests.slice(1).map((r, i) => r.at - receives.requests[i]!.at);
    await waitFor(
      'three receive requests maxPollingInterval apart',
      () => gapsOf().filter((g) => g >= maxMs - 5).length >= 3,
      30_000,
    );
    receives.stop();
    const gaps = gapsOf();
    const firstAtMax = gaps.findIndex((g) => g >= maxMs - 5);

    // Consistent with doubling: each gap is at least the rule's shortest delay for its step
    // (the request itself only adds time), and the delay reaches the maximum only after the
    // rule's steps (100, ~200, ~300, ~500, ~900, ~1700 ms), not at once nor never.
    for (const [k, gap] of gaps.entries())
      expect(gap, `gap ${k} of ${gaps}`).toBeGreaterThanOrEqual(allowedDelay(k, maxMs).low - 5);
    const stepsToMax = Array.from({ length: 10 }, (_, k) => allowedDelay(k, maxMs));
    expect(firstAtMax).toBeGreaterThanOrEqual(stepsToMax.findIndex((d) => d.high >= maxMs));
    expect(firstAtMax).toBeLessThanOrEqual(stepsToMax.findIndex((d) => d.low >= maxMs));
    // Nor slower than the rule, at the maximum too (bounded slack for a loaded machine).
    for (let k = 0; k < gaps.length; k++) expect(gaps[k]!).toBeLessThan(allowedDelay(k, maxMs).high + 750);

    // Counted over the idle interval: a fixed 100 ms poll would have made one request per 100 ms.
    const first = receives.requests[0]!.at;
    const span = receives.requests.at(-1)!.at - first;
    const fixedPollRequests = Math.floor(span / MIN_POLL_MS) + 1;
    let mostAllowed = 0;
    for (let k = 0, t = 0; t <= span; t += allowedDelay(k, maxMs).low - 5, k++) mostAllowed++;
    expect(receives.requests.length).toBeLessThanOrEqual(mostAllowed);
    expect(receives.requests.length * 5).toBeLessThan(fixedPollRequests);
  }, 60_000);

  it('a failed message becomes visible again only after visibilityTimeout', async () => {
    const timeoutMs = 2000;
    const c = await channels.open('visibility');
    const receives = recordReceives(c.name);
    const host = await proxiedHost(c, {
      AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:02',
      // Poll at most every 250 ms, so the redelivery is seen soon after it is due.
      AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.250',
    });
    await c.sendNoop(0, { failUntilDequeue: 1 });
    const [done] = await c.waitForEvents('task-succeeded', 1);
    receives.stop();
    expect(done?.dequeueCount).toBe(2);
    const [failedEnd] = host.linesOf('invocation-end').filter((l) => !l.ok);
    const retryStart = host.linesOf('invocation-start').find((l) => l.dequeueCount === 2);
    expect(failedEnd).toBeDefined();
    expect(retryStart).toBeDefined();
    // The message is released after its invocation ends, so it cannot be visible before end + timeout.
    const hidden = retryStart!.at - failedEnd!.at;
    expect(hidden).toBeGreaterThanOrEqual(timeoutMs);
    // …and is picked up soon after: one poll interval plus slack for a loaded machine.
    expect(hidden).toBeLessThan(timeoutMs + 250 + 1500);
    // The host kept asking in between, and storage had nothing for it: it was hidden, not unwatched.
    const between = receives.requests.filter(
      (r) => r.at > failedEnd!.at + 50 && r.at < failedEnd!.at + timeoutMs - 50,
    );
    expect(between.length).toBeGreaterThanOrEqual(3);
    const emptyPolls = host
      .linesOf('poll')
      .filter((p) => p.at > failedEnd!.at && p.at < retryStart!.at && p.received === 0);
    expect(emptyPolls.length).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
