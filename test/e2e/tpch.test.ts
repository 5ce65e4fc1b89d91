/**
 * TPC-H Q1, Q3, Q5 and Q6 (examples/tpch.ts) on real executors: local fabrics of executor host
 * processes on Azurite, every task's part of the query in the executors' DuckDB, joins and
 * aggregations exchanged through Blob Storage. Each answer equals one DuckDB process running the
 * query's SQL text (examples/lib/tpch-sql.ts) over the same generated Parquet files, with two
 * fabrics (2 executors × 2 slots, 3 × 1), different shuffle partition counts (more than Q1's
 * groups, so some partitions are empty) and a variant with nulls in value and join columns.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTpch, type TpchData } from '../../examples/lib/tpch-gen.js';
import { TPCH_QUERIES } from '../../examples/lib/tpch-sql.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { expectSameRows, tpchReference } from '../helpers/tpch.js';

const JOB = path.resolve(import.meta.dirname, '../../examples/tpch.ts');

let dir: string;
let plain: TpchData;
let withNulls: TpchData;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-e2e-tpch-'));
  plain = await generateTpch({ dir: path.join(dir, 'plain'), scale: 0.01, files: 3 });
  withNulls = await generateTpch({ dir: path.join(dir, 'nulls'), scale: 0.01, files: 2, nullShare: 0.05 });
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Run the four queries on `e2e` over `data` and compare each with DuckDB's answer. */
async function checkQueries(e2e: E2EFabric, data: TpchData, shufflePartitions: number, label: string) {
  const results = (await e2e.driver.run(JOB, {
    dir: path.dirname(path.dirname(data.tables.lineitem)),
    shufflePartitions,
  })) as Record<string, Record<string, unknown>[]>;
  for (const q of TPCH_QUERIES) {
    const expected = await tpchReference(q, data);
    expect(expected.length, `${q} returns rows`).toBeGreaterThan(0);
    expectSameRows(`${q} (${label})`, results[q], expected);
  }
  // Every task of the run was a DataFrame task on an executor, and they succeeded.
  const ends = e2e.events.of('task-end');
  expect(ends.length).toBeGreaterThan(0);
  expect(new Set(ends.filter((t) => t.status === 'succeeded').map((t) => t.executorId)).size).toBeGreaterThan(
    1,
  );
}

describe('TPC-H queries on executors equal single-process DuckDB', () => {
  let e2e: E2EFabric | undefined;
  afterAll(async () => {
    await e2e?.close();
  });

  it('2 executors × 2 slots, 5 shuffle partitions, no nulls', async () => {
    e2e = await startE2E({ label: 'tpch-a', executors: 2, slots: 2 });
    await checkQueries(e2e, plain, 5, '2 × 2 slots, 5 partitions');
  }, 240_000);

  it('the same fabric, 2 shuffle partitions, nulls in values and join keys', async () => {
    e2e!.events.clear();
    await checkQueries(e2e!, withNulls, 2, '2 × 2 slots, 2 partitions, nulls');
  }, 240_000);
});

describe('TPC-H queries on one-slot executors', () => {
  let e2e: E2EFabric | undefined;
  afterAll(async () => {
    await e2e?.close();
  });

  it('3 executors × 1 slot, 8 shuffle partitions (most empty for Q1 and Q5), nulls', async () => {
    e2e = await startE2E({ label: 'tpch-b', executors: 3, slots: 1 });
    await checkQueries(e2e, withNulls, 8, '3 × 1 slot, 8 partitions, nulls');
  }, 240_000);
});
