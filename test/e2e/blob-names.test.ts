/**
 * The blobs task executions write never share a name: map outputs of different runs of one
 * driver (whose shuffle ids both start at 0) live under their own run, and the map-output
 * table names exactly the blob whose segment sizes the winning execution reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../engine/names.js';
import { MapOutputTableSchema } from '../../engine/stage-descriptor.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { type SumByKeyParams, sumByKeyInput } from './jobs/sum-by-key.js';
import twoRuns from './jobs/two-runs.js';

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
});
