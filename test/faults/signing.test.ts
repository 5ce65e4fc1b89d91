/**
 * Signed task messages: executors with a signing key run only messages the driver signed with
 * the same key; unsigned or tampered ones go to the poison queue without their code ever
 * loading, and the driver of such a message fails its job saying so.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleJobModule } from '../../driver/bundler.js';
import { Driver } from '../../driver/driver.js';
import type { StratusError } from '../../engine/errors.js';
import { bundleBlobName, CODE_CONTAINER, poisonQueueName } from '../../engine/names.js';
import { encodeWire, PROTOCOL_VERSION } from '../../engine/protocol.js';
import { signTaskMessage } from '../../engine/signing.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';

const KEY = 'k'.repeat(20) + '-signing-key-for-tests';

let e2e: E2EFabric;
let dir: string;
let marker: string;
let moduleFile: string;

/** A job module that leaves a marker file behind whenever its code is loaded. */
async function writeMarkerJob(): Promise<void> {
  await writeFile(
    moduleFile,
    [
      "import { writeFileSync } from 'node:fs';",
      "import { defineJob } from 'stratus';",
      `if (process.env.STRATUS_EXECUTOR_ID) writeFileSync(${JSON.stringify(marker)}, 'loaded');`,
      'export default defineJob((ctx) => ctx.parallelize([1, 2, 3], 1).count());',
      '',
    ].join('\n'),
  );
}

async function waitFor(predicate: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-signing-'));
  marker = path.join(dir, 'marker');
  moduleFile = path.join(dir, 'marker-job.ts');
  await writeMarkerJob();
  e2e = await startE2E({
    label: 'sign',
    executors: 1,
    slots: 2,
    hostEnv: { STRATUS_SIGNING_KEY: KEY },
    driver: { signingKey: KEY, poisonCheckMs: 300 },
  });
});

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('signed task messages', () => {
  it('a tampered or unsigned message is quarantined and its code never runs', async () => {
    const storage = connectStorage({ connectionString: e2e.fabric.connectionString });
    const bundle = await bundleJobModule(moduleFile);
    await new BlobStore(storage).put(CODE_CONTAINER, bundleBlobName(bundle.codeHash), bundle.code);
    const base = {
      v: PROTOCOL_VERSION,
      type: 'task' as const,
      appId: e2e.driver.appId,
      jobId: 900,
      stageId: 0,
      partition: 0,
      attempt: 0,
      eventsQueue: 'stratus-events-x',
      sentAt: Date.now(),
      work: { kind: 'stage' as const, codeHash: bundle.codeHash, stageBlob: 'apps/x/jobs/0/stage-0.json' },
    };
    const tampered = { ...base, signature: signTaskMessage({ ...base, partition: 1 }, KEY) };
    const wrongKey = {
      ...base,
      partition: 2,
      signature: signTaskMessage({ ...base, partition: 2 }, `${KEY}-other`),
    };
    const unsigned = { ...base, partition: 3 };
    const tasks = new StorageQueue(storage, e2e.fabric.queue);
    for (const m of [tampered, wrongKey, unsigned]) await tasks.send(encodeWire(m));

    const poison = new StorageQueue(storage, poisonQueueName(e2e.fabric.queue));
    await waitFor(
      async () => (await poison.exists()) && (await poison.peek(32)).length >= 3,
      15_000,
      'quarantine',
    );
    const quarantined = (await poison.peek(32)).map((m) =>
      JSON.parse(Buffer.from(m.text, 'base64').toString()),
    );
    expect(quarantined.map((m) => m.partition).sort()).toEqual([0, 2, 3]);
    expect(existsSync(marker)).toBe(false);
  });

  it('the same module signed by the driver runs (so the marker proves loading)', async () => {
    const result = await e2e.driver.run(moduleFile, {});
    expect(result).toBe(3);
    expect(existsSync(marker)).toBe(true);
  });

  it('a driver without the key has its job failed clearly instead of hanging', async () => {
    const unsignedDriver = await Driver.connect({
      connectionString: e2e.fabric.connectionString,
      taskQueue: e2e.fabric.queue,
      totalSlots: 2,
      poisonCheckMs: 300,
    });
    try {
      const error = (await unsignedDriver.run(moduleFile, {}).catch((e: unknown) => e)) as StratusError;
      expect(error.code).toBe('JOB_FAILED');
      expect(error.message).toContain('poison queue');
    } finally {
      await unsignedDriver.close();
    }
  });
});
