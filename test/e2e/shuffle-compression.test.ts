/**
 * Shuffle compression on real executors: with `shuffleCompression: 'brotli'` the wide
 * operators, a cached dataset and a spilling groupByKey give plain JS's answers, and the shuffle
 * bytes the executors write shrink against the same job run uncompressed on the same executors.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../../driver/app/driver.js';
import { shuffleCodecName } from '../../driver/app/services.js';
import { connectDriver, type E2EFabric, RecordingListener, startE2E } from '../helpers/e2e.js';
import { checkCachedJob, checkPairsAgainstReference } from '../helpers/job-references.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;

beforeAll(async () => {
  e2e = await startE2E({
    label: 'brotli',
    driver: { shuffleCompression: 'brotli', memoryBudgetBytes: 256 * 1024 },
  });
});

afterAll(async () => {
  await e2e?.close();
});

/** Shuffle bytes written by the succeeded tasks a listener saw. */
function shuffleWriteBytes(events: RecordingListener): number {
  return events
    .of('task-end')
    .filter((t) => t.status === 'succeeded')
    .reduce((n, t) => n + (t.metrics?.shuffleWriteBytes ?? 0), 0);
}

describe('compressed shuffle', () => {
  it('picks brotli against an Azure account and none against Azurite, unless told', () => {
    expect(shuffleCodecName(undefined, 'https://acct.blob.core.windows.net')).toBe('msgpack+brotli');
    expect(shuffleCodecName(undefined, 'http://127.0.0.1:10000/devstoreaccount1')).toBe('msgpack');
    expect(shuffleCodecName(undefined, 'http://localhost:10000/devstoreaccount1')).toBe('msgpack');
    expect(shuffleCodecName('none', 'https://acct.blob.core.windows.net')).toBe('msgpack');
    expect(shuffleCodecName('brotli', 'http://127.0.0.1:10000/devstoreaccount1')).toBe('msgpack+brotli');
    expect(() => shuffleCodecName('zstd' as never, 'http://127.0.0.1:1/a')).toThrow(/shuffleCompression/);
  });

  it('reduceByKey, groupByKey, joins, distinct and sortByKey equal plain JS', async () => {
    await checkPairsAgainstReference(e2e.driver, {
      maxSlices: 5,
      maxPartitions: 4,
      numRuns: 3,
      seed: 20261201,
    });
  });

  it('a cached dataset is read back through the compressed codec', async () => {
    await checkCachedJob(e2e.driver, 400, 4);
  });

  it('a groupByKey that spills compressed runs stays exact, and writes far fewer shuffle bytes than uncompressed', async () => {
    const n = 60_000;
    const expected = new Map<string, [number, number]>();
    for (let i = 0; i < n; i++) {
      const k = i % 3 === 0 ? `k${i % 10}` : 'hot';
      const [c, s] = expected.get(k) ?? [0, 0];
      expected.set(k, [c + 1, s + i]);
    }
    const runOn = async (driver: Driver, events: RecordingListener) => {
      events.clear();
      const result = (await driver.run(path.join(JOBS, 'hot-key.ts'), { n, partitions: 2 })) as [
        string,
        [number, number],
      ][];
      expect(new Map(result)).toEqual(expected);
      const spills = events
        .of('task-end')
        .filter((t) => t.status === 'succeeded')
        .reduce((s, t) => s + (t.metrics?.spillCount ?? 0), 0);
      return { bytes: shuffleWriteBytes(events), spills };
    };
    const compressed = await runOn(e2e.driver, e2e.events);
    expect(compressed.spills).toBeGreaterThan(0);

    const plainEvents = new RecordingListener();
    const plainDriver = await connectDriver(e2e.fabric, {
      shuffleCompression: 'none',
      memoryBudgetBytes: 256 * 1024,
      listeners: [plainEvents],
    });
    try {
      const plain = await runOn(plainDriver, plainEvents);
      expect(compressed.bytes).toBeGreaterThan(0);
      // [key, i] pairs with increasing numbers: brotli quality 1 shrinks them well over 2×.
      expect(compressed.bytes * 2).toBeLessThan(plain.bytes);
    } finally {
      await plainDriver.close();
    }
  });
});
