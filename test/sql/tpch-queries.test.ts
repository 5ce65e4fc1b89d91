/**
 * The four TPC-H queries of examples/tpch.ts (Q1, Q3, Q5, Q6), planned and run distributed in one
 * process (every task through DuckDB, exchanges as Parquet segment files), equal single-process
 * DuckDB running the queries' SQL text over the same generated Parquet files — across shuffle
 * partition counts (1, more than the groups, many empty partitions) and default parallelism, and
 * over a variant with nulls in value and join columns. The executors' wiring is the e2e test's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTpch, type TpchData } from '../../examples/lib/tpch-gen.js';
import { TPCH_QUERIES } from '../../examples/lib/tpch-sql.js';
import tpch from '../../examples/tpch.js';
import { expectSameRows, tpchReference } from '../helpers/tpch.js';
import { runDataFrameJob } from './local-dataframe-runner.js';
import { referenceRows } from './tpch-data.js';

let dir: string;
let plain: TpchData;
let withNulls: TpchData;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-tpch-q-'));
  plain = await generateTpch({ dir: path.join(dir, 'plain'), scale: 0.01, files: 3 });
  withNulls = await generateTpch({ dir: path.join(dir, 'nulls'), scale: 0.01, files: 2, nullShare: 0.05 });
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the generator', () => {
  it('writes the six tables with TPC-H keys that join, several files and row groups for the big ones', async () => {
    expect(plain.rows.region).toBe(5);
    expect(plain.rows.nation).toBe(25);
    expect(plain.rows.orders).toBe(15_000);
    expect(plain.rows.customer).toBe(1500);
    expect(plain.rows.lineitem / plain.rows.orders).toBeGreaterThan(3.5);
    expect(plain.rows.lineitem / plain.rows.orders).toBeLessThan(4.5);
    const li = `read_parquet('${plain.tables.lineitem}')`;
    const [orphans] = await referenceRows(
      `SELECT count(*) AS n FROM ${li} l ANTI JOIN read_parquet('${plain.tables.orders}') o ON l.l_orderkey = o.o_orderkey`,
    );
    expect(orphans).toEqual({ n: 0 });
    const groups = await referenceRows(
      `SELECT file_name, count(DISTINCT row_group_id) AS groups FROM parquet_metadata('${plain.tables.lineitem}') GROUP BY 1`,
    );
    expect(groups).toHaveLength(3);
    for (const g of groups) expect(g.groups as number).toBeGreaterThan(1);
    // Selectivities as in TPC-H: Q6 keeps ~2 % of lineitem, Q3's segment ~1/5 of customers.
    const [q6] = await referenceRows(
      `SELECT avg(CASE WHEN l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24 THEN 1.0 ELSE 0 END) AS share FROM ${li}`,
    );
    expect(q6!.share as number).toBeGreaterThan(0.01);
    expect(q6!.share as number).toBeLessThan(0.03);
    const [nulls] = await referenceRows(
      `SELECT count(*) FILTER (WHERE l_discount IS NULL) AS discounts, count(*) FILTER (WHERE l_suppkey IS NULL) AS suppliers FROM read_parquet('${withNulls.tables.lineitem}')`,
    );
    expect(nulls!.discounts as number).toBeGreaterThan(0);
    expect(nulls!.suppliers as number).toBeGreaterThan(0);
  });
});

describe('TPC-H Q1, Q3, Q5, Q6 as DataFrames equal single-process DuckDB over the same files', () => {
  const layouts = [
    { data: () => plain, name: 'no nulls', shufflePartitions: 1, parallelism: 1 },
    { data: () => plain, name: 'no nulls', shufflePartitions: 7, parallelism: 3 },
    { data: () => withNulls, name: 'nulls in values and join keys', shufflePartitions: 4, parallelism: 2 },
  ];
  for (const layout of layouts) {
    it(`${layout.name}, ${layout.shufflePartitions} shuffle partition(s), default parallelism ${layout.parallelism}`, async () => {
      const data = layout.data();
      const results = (await runDataFrameJob(
        tpch,
        {
          dir: path.dirname(path.dirname(data.tables.lineitem)),
          shufflePartitions: layout.shufflePartitions,
        },
        { defaultParallelism: layout.parallelism },
      )) as Record<string, Record<string, unknown>[]>;
      for (const q of TPCH_QUERIES) {
        const expected = await tpchReference(q, data);
        expect(expected.length, `${q} returns rows`).toBeGreaterThan(0);
        expectSameRows(`${q} (${layout.name}, ${layout.shufflePartitions} partitions)`, results[q], expected);
      }
    }, 120_000);
  }
});
