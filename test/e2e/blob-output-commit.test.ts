/**
 * Saved output to an az:// target is committed by block list: every execution stages its
 * part's bytes as uncommitted blocks on the final part blob, and the driver commits exactly
 * one execution's blocks per part. So whatever runs twice — duplicate deliveries, a
 * speculative copy and the straggler it beat — each part holds one execution's bytes, and
 * nothing else appears under the target, not even a blob with only uncommitted blocks. An
 * overwrite with fewer parts leaves exactly the new parts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { waitFor } from '../helpers/processes.js';
import { sendTwice } from '../helpers/queue-faults.js';
import { type SaveTaggedParams, taggedLine } from './jobs/save-tagged.js';

const JOB = path.resolve(import.meta.dirname, 'jobs/save-tagged.ts');
const CONTAINER = 'block-commit-outputs';

let e2e: E2EFabric;
let blobs: BlobStore;
let dir: string;
let counter = 0;

beforeAll(async () => {
  e2e = await startE2E({
    label: 'blockcommit',
    // Executors re-read the lease only every 10 minutes here, so they do not stop the straggler
    // (test/faults/stop-attempts.test.ts covers stopping): these tests prove the safety net
    // for an attempt that finishes late anyway.
    hostEnv: { STRATUS_LEASE_CHECK_MS: '600000' },
  });
  blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-block-commit-'));
});

afterAll(async () => {
  await e2e?.close();
  await blobs?.deletePrefix(CONTAINER, '');
  if (dir) await rm(dir, { recursive: true, force: true });
});

const uniquePrefix = (what: string) => `${what}-${process.pid}-${counter++}/`;
const partNames = (prefix: string, parts: number) =>
  Array.from({ length: parts }, (_, p) => `${prefix}part-${String(p).padStart(5, '0')}`);

/** Every blob name under `prefix`, those with only uncommitted blocks included. */
async function everyName(prefix: string): Promise<string[]> {
  return (await blobs.list(CONTAINER, prefix, { includeUncommitted: true })).map((b) => b.name).sort();
}

/** The writer token of a block id (`<token>-<index>`, base64). */
const tokenOf = (id: string) => Buffer.from(id, 'base64').toString('utf8').split('-')[0]!;

/**
 * Check that the output under `prefix` is the numbers 0 … n-1 in order across its parts,
 * byte for byte, that each part is one execution's (one tag) and committed from one
 * writer's blocks, and that nothing but the parts and _SUCCESS is under the prefix.
 */
async function expectOneExecutionPerPart(prefix: string, n: number, parts: number): Promise<void> {
  expect(await everyName(prefix)).toEqual([`${prefix}_SUCCESS`, ...partNames(prefix, parts)].sort());
  const values: number[] = [];
  for (const name of partNames(prefix, parts)) {
    const text = (await blobs.get(CONTAINER, name)).toString('utf8');
    if (text === '') continue;
    const lines = text.slice(0, -1).split('\n');
    const tag = lines[0]!.slice(0, lines[0]!.indexOf('\t'));
    const mine = lines.map((l) => Number(l.split('\t')[1]));
    // Byte-exact: exactly these lines of this one execution, nothing before, after or between.
    expect(text).toBe(mine.map((v) => `${tag}\t${taggedLine(v)}\n`).join(''));
    values.push(...mine);
    const { committed } = await blobs.blockList(CONTAINER, name);
    expect(committed.length).toBeGreaterThan(0);
    expect(new Set(committed.map(tokenOf)).size).toBe(1);
  }
  expect(values).toEqual(Array.from({ length: n }, (_, i) => i));
}

function resultStageEnds(partition?: number) {
  const stage = e2e.events.of('stage-submitted').find((s) => s.kind === 'result')!;
  return e2e.events
    .of('task-end')
    .filter((t) => t.stageId === stage.stageId && (partition === undefined || t.partition === partition));
}

describe('saved output committed by block list', () => {
  it('under duplicate delivery each part holds one execution’s bytes and nothing else is under the target', async () => {
    e2e.events.clear();
    const prefix = uniquePrefix('duplicates');
    const params: SaveTaggedParams = { n: 500, partitions: 4, output: `az://${CONTAINER}/${prefix}` };
    const restore = sendTwice(e2e.fabric.queue);
    try {
      expect(await e2e.driver.run(JOB, params)).toEqual({
        path: params.output,
        partitions: 4,
        records: 500,
      });
    } finally {
      restore();
    }
    // Both executions of every save task have ended (one won, one was ignored) before we look.
    await waitFor('both executions of every save task', () => resultStageEnds().length >= 8, 30_000);
    expect(resultStageEnds().filter((t) => t.status === 'ignored').length).toBeGreaterThanOrEqual(1);
    await expectOneExecutionPerPart(prefix, 500, 4);
  });

  it('a straggler that writes its part after the other attempt won leaves the committed part unchanged', async () => {
    e2e.events.clear();
    const prefix = uniquePrefix('speculation');
    const straggle = { marker: path.join(dir, 'marker'), release: path.join(dir, 'release') };
    const params: SaveTaggedParams = {
      n: 800,
      partitions: 8,
      output: `az://${CONTAINER}/${prefix}`,
      straggle,
    };
    expect(await e2e.driver.run(JOB, params)).toMatchObject({ partitions: 8, records: 800 });
    // Whichever of partition 0's two attempts reaches the save first straggles (on a cold thread the
    // copy can overtake the original); the other one wins.
    expect(resultStageEnds(0).filter((t) => t.speculative)).toHaveLength(1);
    expect(resultStageEnds(0).filter((t) => t.status === 'succeeded')).toHaveLength(1);
    const before = (await blobs.get(CONTAINER, partNames(prefix, 1)[0]!)).toString('utf8');

    // The driver ended the straggler `killed` when its copy won; now let it write its part, on the
    // committed blob, and report a late success, which the driver drops.
    expect(resultStageEnds(0).some((t) => t.status === 'killed')).toBe(true);
    const lateBefore = e2e.driver.lateOutcomesOfKilledAttempts;
    await writeFile(straggle.release, '');
    await waitFor('the straggler to end', () => e2e.driver.lateOutcomesOfKilledAttempts > lateBefore, 30_000);
    const first = partNames(prefix, 1)[0]!;
    expect((await blobs.get(CONTAINER, first)).toString('utf8')).toBe(before);
    // Its blocks are there, uncommitted, invisible to readers (Azure drops them after 7 days).
    expect((await blobs.blockList(CONTAINER, first)).uncommitted.length).toBeGreaterThan(0);
    await expectOneExecutionPerPart(prefix, 800, 8);
  });

  it('overwriting an output with fewer parts leaves exactly the new parts and _SUCCESS', async () => {
    const prefix = uniquePrefix('overwrite');
    const output = `az://${CONTAINER}/${prefix}`;
    await e2e.driver.run(JOB, { n: 900, partitions: 6, output });
    expect(await everyName(prefix)).toHaveLength(7);
    await expect(e2e.driver.run(JOB, { n: 90, partitions: 3, output })).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
    });

    const result = await e2e.driver.run(JOB, { n: 90, partitions: 3, output }, { overwrite: true });
    expect(result).toEqual({ path: output, partitions: 3, records: 90 });
    await expectOneExecutionPerPart(prefix, 90, 3);
  });
});
