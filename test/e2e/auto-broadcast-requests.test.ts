/**
 * The automatic broadcast of a small file scan costs no storage request: the driver takes the
 * scans' sizes from the listing it makes anyway and carries that listing over to the graph it
 * rebuilds. Counted at a pass-through proxy in front of Azurite (no mock): every request to the
 * input container — the driver's listing and footer reads, the tasks' row-group reads — is the
 * same whether the join broadcasts the dimension (default threshold) or shuffles both sides (-1).
 * A dimension of which the query reads two columns of a wide file is estimated by those columns'
 * chunks (binding the first graph reads nothing from storage): broadcast at a threshold below the
 * whole file, with the same requests again, and rows equal to single-process DuckDB.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { RequestCounter } from '../../storage/testing/request-counter.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { normalised, referenceRows, writeTable } from '../sql/tpch-data.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');
const CONTAINER = `lake-${process.pid}-${Date.now().toString(36)}`;

let counter: RequestCounter;
let e2e: E2EFabric;
let dir: string;

beforeAll(async () => {
  counter = await RequestCounter.startFor(suiteConnectionString());
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-e2e-autobcast-'));
  const fact = Array.from({ length: 4000 }, (_, i) => ({ f_id: i, dim: i % 9, amount: i * 0.5 }));
  const dim = Array.from({ length: 6 }, (_, i) => ({ dim: i, label: `d${i}` }));
  await writeTable(dir, 'fact', fact, { f_id: 'BIGINT', dim: 'INTEGER', amount: 'DOUBLE' }, 'parquet', 2);
  await writeTable(dir, 'dim', dim, { dim: 'INTEGER', label: 'VARCHAR' }, 'parquet', 1);
  await writeTable(dir, 'dim', dim, { dim: 'INTEGER', label: 'VARCHAR' }, 'json', 1);
  const blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
  await blobs.ensureContainers([CONTAINER]);
  // A wide dimension (2 + 24 columns, 3 row groups), written by DuckDB.
  const extra = Array.from({ length: 24 }, (_, j) =>
    j % 2 === 0
      ? `repeat('v', 1 + (i * ${j + 3}) % 17) || i::VARCHAR AS c${j}`
      : `(i * ${j + 5}) % 997 AS c${j}`,
  ).join(', ');
  await referenceRows(
    `COPY (SELECT i::INTEGER AS k, 'name-' || (i % 41)::VARCHAR AS name, ${extra} FROM range(1500) t(i)) TO '${path.join(dir, 'wide-0.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 500)`,
  );
  const facts = Array.from({ length: 3000 }, (_, i) => ({
    f_id: i,
    k: i % 13 === 0 ? null : (i * 7) % 1700,
    amount: i % 5,
  }));
  await writeTable(dir, 'facts', facts, { f_id: 'BIGINT', k: 'INTEGER', amount: 'DOUBLE' }, 'parquet', 2);
  for (const file of [
    'fact-0.parquet',
    'fact-1.parquet',
    'dim-0.parquet',
    'dim-0.jsonl',
    'wide-0.parquet',
    'facts-0.parquet',
    'facts-1.parquet',
  ])
    await blobs.put(CONTAINER, `tables/${file}`, await readFile(path.join(dir, file)));
  e2e = await startE2E({ label: 'autobcast-req', connectionString: counter.connectionString });
});

afterAll(async () => {
  await e2e?.close();
  await counter?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('broadcast by listed size', () => {
  it('asks storage nothing more of the inputs than the shuffled plan does', async () => {
    const run = async (threshold: number, dimFormat: 'parquet' | 'json' = 'parquet') => {
      const requests: Record<string, number> = {};
      const stop = counter.onRequest((r) => {
        if (r.path.includes(`/${CONTAINER}`)) requests[r.kind] = (requests[r.kind] ?? 0) + 1;
      });
      try {
        const result = (await e2e.driver.run(path.join(JOBS, 'dataframe-auto-broadcast-blobs.ts'), {
          fact: `az://${CONTAINER}/tables/fact-*.parquet`,
          dim: `az://${CONTAINER}/tables/dim-*.${dimFormat === 'json' ? 'jsonl' : 'parquet'}`,
          threshold,
          dimFormat,
        })) as { count: number; plan: string };
        return { ...result, requests };
      } finally {
        stop();
      }
    };
    const broadcast = await run(10 * 1024 * 1024);
    const shuffled = await run(-1);
    expect(broadcast.plan).toMatch(/BroadcastExchange \(.*estimated \d+ bytes, at most/);
    expect(broadcast.plan).not.toMatch(/hash exchange/);
    expect(shuffled.plan).toMatch(/hash exchange/);
    const [expected] = await referenceRows(
      `SELECT count(*)::BIGINT AS n FROM read_parquet('${path.join(dir, 'fact-*.parquet')}') f LEFT JOIN read_parquet('${path.join(dir, 'dim-*.parquet')}') d ON f.dim = d.dim`,
    );
    expect(broadcast.count).toBe(Number(expected!.n));
    expect(shuffled.count).toBe(Number(expected!.n));
    // Listing (container-list) and reads of the input blobs: the same requests, kind by kind.
    expect(broadcast.requests['blob:container-list']).toBeGreaterThan(0);
    expect(broadcast.requests['blob:read:other']).toBeGreaterThan(0);
    expect(broadcast.requests).toEqual(shuffled.requests);
    // A JSON Lines dimension: the driver binds both graphs of the broadcast run, and samples the
    // dimension's first split once for both.
    const jsonBroadcast = await run(10 * 1024 * 1024, 'json');
    const jsonShuffled = await run(-1, 'json');
    expect(jsonBroadcast.plan).toMatch(/BroadcastExchange \(.*estimated \d+ bytes, at most/);
    expect(jsonShuffled.plan).toMatch(/hash exchange/);
    expect(jsonBroadcast.count).toBe(Number(expected!.n));
    expect(jsonShuffled.count).toBe(Number(expected!.n));
    expect(jsonBroadcast.requests['blob:read:other']).toBeGreaterThan(0);
    expect(jsonBroadcast.requests).toEqual(jsonShuffled.requests);
  }, 300_000);

  it('estimates a dimension by the two columns it reads of a wide file: broadcast, the same requests, the rows of DuckDB', async () => {
    const wide = path.join(dir, 'wide-0.parquet');
    const [chunks] = await referenceRows(
      `SELECT (sum(total_compressed_size) FILTER (WHERE path_in_schema IN ('k', 'name')))::BIGINT AS two, sum(total_compressed_size)::BIGINT AS every FROM parquet_metadata('${wide}')`,
    );
    const two = Number(chunks!.two);
    const every = Number(chunks!.every);
    expect(two * 5).toBeLessThan(every);
    const run = async (threshold: number) => {
      const requests: Record<string, number> = {};
      const stop = counter.onRequest((r) => {
        if (r.path.includes(`/${CONTAINER}`)) requests[r.kind] = (requests[r.kind] ?? 0) + 1;
      });
      try {
        const result = (await e2e.driver.run(path.join(JOBS, 'dataframe-auto-broadcast-columns.ts'), {
          fact: `az://${CONTAINER}/tables/facts-*.parquet`,
          wide: `az://${CONTAINER}/tables/wide-0.parquet`,
          columns: ['k', 'name'],
          threshold,
        })) as { rows: Record<string, unknown>[]; plan: string };
        return { ...result, requests };
      } finally {
        stop();
      }
    };
    // Below the whole file's chunks, above the two columns': only the columns read make it small.
    const broadcast = await run(every - 1);
    const shuffled = await run(-1);
    const printed = two < 1024 ? `${two} bytes` : `${(two / 1024).toFixed(1)} KiB (${two} bytes)`;
    expect(broadcast.plan).toContain(`estimated ${printed}, at most spark.sql.autoBroadcastJoinThreshold`);
    expect(broadcast.plan).not.toMatch(/hash exchange/);
    expect(shuffled.plan).toMatch(/hash exchange/);
    const expected = await referenceRows(
      `SELECT f.k, f.f_id, f.amount, w.name FROM read_parquet('${path.join(dir, 'facts-*.parquet')}') f LEFT JOIN read_parquet('${wide}') w ON f.k = w.k`,
    );
    expect(broadcast.rows).toHaveLength(3000);
    expect(normalised(broadcast.rows, true)).toEqual(normalised(expected, true));
    expect(normalised(shuffled.rows, true)).toEqual(normalised(expected, true));
    expect(broadcast.requests['blob:read:other']).toBeGreaterThan(0);
    expect(broadcast.requests).toEqual(shuffled.requests);
  }, 300_000);
});
