/**
 * The queue trigger's settings: host.json, the documented app-setting overrides and defaults,
 * and the empty-poll backoff. Pure logic, no server.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { slotsEnv } from '../../contract/local-host-process.js';
import {
  parseTimeSpan,
  resolveQueueTriggerOptions,
  slotCount,
} from '../../contract/queue-trigger-options.js';
import { PollingBackoff } from '../../executor-function/local-host/backoff.js';

const hostJson: unknown = JSON.parse(
  readFileSync(new URL('../../executor-function/host.json', import.meta.url), 'utf8'),
);

describe('queue trigger options', () => {
  it('gives the shipped host.json 4 slots: batchSize 1 + newBatchThreshold 3', () => {
    const options = resolveQueueTriggerOptions(hostJson, {}, 2);
    expect(options).toEqual({
      batchSize: 1,
      newBatchThreshold: 3,
      maxDequeueCount: 5,
      visibilityTimeoutMs: 0,
      maxPollingIntervalMs: 2000,
      messageEncoding: 'base64',
    });
    expect(slotCount(options)).toBe(4);
  });

  it('lets AzureFunctionsJobHost__extensions__queues__* app settings override host.json', () => {
    const options = resolveQueueTriggerOptions(
      hostJson,
      { ...slotsEnv(7), AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '2' },
      2,
    );
    expect(slotCount(options)).toBe(7);
    expect(options.maxDequeueCount).toBe(2);
  });

  it('uses the documented defaults when host.json is silent', () => {
    const options = resolveQueueTriggerOptions({ version: '2.0' }, {}, 4);
    expect(options.batchSize).toBe(16);
    expect(options.newBatchThreshold).toBe(32); // batchSize/2 × processors
    expect(options.maxPollingIntervalMs).toBe(60_000);
    expect(
      resolveQueueTriggerOptions({}, { AZURE_FUNCTIONS_ENVIRONMENT: 'Development' }, 4).maxPollingIntervalMs,
    ).toBe(2000);
  });

  it('rejects a batchSize above 32 and malformed TimeSpans', () => {
    expect(() => resolveQueueTriggerOptions({ extensions: { queues: { batchSize: 33 } } }, {}, 1)).toThrow(
      /batchSize/,
    );
    expect(() => parseTimeSpan('2s', 'maxPollingInterval')).toThrow(/TimeSpan/);
    expect(parseTimeSpan('1.00:00:01.5', 'x')).toBe(86_401_500);
  });
});

describe('empty-poll backoff', () => {
  it('starts at 100 ms, roughly doubles with ±20 % jitter up to the maximum, and resets on a message', () => {
    const low = new PollingBackoff(100, 2000, () => 0);
    const high = new PollingBackoff(100, 2000, () => 0.999_999);
    const lows = Array.from({ length: 8 }, () => low.next(false));
    const highs = Array.from({ length: 8 }, () => high.next(false));
    expect(lows.slice(0, 5)).toEqual([100, 180, 260, 420, 740]);
    expect(highs[1]).toBeCloseTo(220, 3);
    expect(lows.at(-1)).toBe(2000);
    expect(highs.at(-1)).toBe(2000);
    expect(low.next(true)).toBe(100);
  });
});
