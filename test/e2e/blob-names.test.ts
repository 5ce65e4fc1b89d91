/**
 * The blobs task executions write never share a name: map outputs of different runs of one
 * driver (whose shuffle ids both start at 0) live under their own run, two executions of one
 * task message (duplicate deliveries) write two blobs, and the map-output table names exactly
 * the blob whose segment sizes the winning execution reported.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../contract/names.js';
import { MapOutputTableSchema } from '../../engine/plan/stage-descriptor.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { waitFor } from '../helpers/processes.js';
import { sendTwice } from '../helpers/queue-faults.js';
import { type SumByKeyParams, sumByKeyInput } from './jobs/sum-by-key.js';
import twoRuns from './jobs/two-runs.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
let blobs: BlobStore;

beforeAll(async () => {
  e2e = await startE2E({ label: 'names' });
  blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
});

afterAll(async () => {
  await e2e?.close();
});

function sumByKey(p: SumByKeyParams): Map<string, number> {
  const sums = new Map<string, number>();
  for (const [k, v] of sumByKeyInput(p)) sums.set(k, (sums.get(k) ?? 0) + v);
  return sums;
}

/** The map-output tables of this application's shuffle 0, one per run, by name. */
async function shuffleZeroTables(): Promise<Map<string, { blob: string; segmentSizes: number[] }[]>> {
  const tables = new Map<string, { blob: string; segmentSizes: number[] }[]>();
  for (const { name } of await blobs.list(DATA_CONTAINER, `apps/${e2e.driver.appId}/`)) {
    if (!name.endsWith('/shuffle/0/outputs.json')) continue;
    const table = MapOutputTableSchema.parse(JSON.parse((await blobs.get(DATA_CONTAINER, name)).toString()));
    tables.set(name, table.outputs);
  }
  return tables;
}

describe('blob names of task executions', () => {
  it('two runs of one driver whose shuffles are both shuffle 0 write their map outputs under their own run', async () => {
    const params = { pairs: 3000, keys: 25 };
    const seeds = [1, 2];
    const results = await twoRuns.main(e2e.driver, { seeds, ...params });
    expect(results.map((r) => new Map(r))).toEqual(seeds.map((seed) => sumByKey({ seed, ...params })));

    const tables = await shuffleZeroTables();
    expect(tables.size).toBe(2);
    const names: string[] = [];
    for (const [tableName, outputs] of tables) {
      const runDir = tableName.slice(0, -'outputs.json'.length);
      expect(runDir).toMatch(new RegExp(`^apps/${e2e.driver.appId}/run-\\d+/shuffle/0/$`));
      expect(outputs).toHaveLength(3);
      for (const output of outputs) {
        // Each run's winners live in that run's folder, and hold exactly the bytes they reported.
        expect(output.blob.startsWith(runDir)).toBe(true);
        const size = await blobs.size(DATA_CONTAINER, output.blob);
        expect(size).toBe(output.segmentSizes.reduce((a, b) => a + b, 0));
        names.push(output.blob);
      }
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('two concurrent deliveries of one map task message write two distinct blobs, and the answer is right', async () => {
    const barrierDir = await mkdtemp(path.join(tmpdir(), 'stratus-barrier-'));
    const before = new Set((await shuffleZeroTables()).keys());
    e2e.events.clear();
    const restore = sendTwice(e2e.fabric.queue);
    const n = 4000;
    let result: [string, number][];
    try {
      result = (await e2e.driver.run(path.join(JOBS, 'padded-groups.ts'), {
        n,
        partitions: 2,
        barrierDir,
        executionsPerTask: 2,
      })) as [string, number][];
    } finally {
      restore();
      await rm(barrierDir, { recursive: true, force: true });
    }
    const expected = new Map<string, number>();
    for (let v = 0; v < n; v++) expected.set(`k${v % 7}`, (expected.get(`k${v % 7}`) ?? 0) + v);
    expect(new Map(result)).toEqual(expected);

    // Both executions of each map task finish (one wins, the other is ignored) before we look.
    const mapStage = e2e.events.of('stage-submitted').find((s) => s.kind === 'shuffle-map')!;
    const mapEnds = () => e2e.events.of('task-end').filter((t) => t.stageId === mapStage.stageId);
    await waitFor('both executions of both map tasks to end', () => mapEnds().length >= 4, 30_000);
    expect(mapEnds().filter((t) => t.status === 'succeeded')).toHaveLength(2);

    const [tableName, outputs] = [...(await shuffleZeroTables())].find(([name]) => !before.has(name))!;
    const runDir = tableName.slice(0, -'outputs.json'.length);
    const written = (await blobs.list(DATA_CONTAINER, runDir)).filter(
      (b) => !b.name.endsWith('outputs.json'),
    );
    for (const partition of [0, 1]) {
      const executions = written.filter((b) => b.name.startsWith(`${runDir}map-${partition}-a0-d1-`));
      expect(executions).toHaveLength(2);
      // The table names the winner's own blob, whose bytes are the sizes it reported.
      const winner = outputs[partition]!;
      const blob = executions.find((b) => b.name === winner.blob);
      expect(blob?.size).toBe(winner.segmentSizes.reduce((a, b) => a + b, 0));
    }
  });
});
