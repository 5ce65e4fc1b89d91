/**
 * DataFrame jobs on the real scheduler: a local fabric of executor processes on Azurite, every
 * task's relational work run by the executors' DuckDB, exchanges through Blob Storage. Each
 * result equals DuckDB running the same SQL in one process over the same files.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { normalised, referenceRows, TPCH_TYPES, tpchRows, writeTable } from '../sql/tpch-data.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
let dir: string;
let lineitem: string;
let orders: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-e2e-df-'));
  const rows = tpchRows(0.5, 7);
  lineitem = await writeTable(dir, 'lineitem', rows.lineitem, TPCH_TYPES.lineitem, 'parquet', 3);
  orders = await writeTable(dir, 'orders', rows.orders, TPCH_TYPES.orders, 'csv', 2);
  e2e = await startE2E({ label: 'df' });
});

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('DataFrames on executors', () => {
  it('TPC-H-style queries over Parquet and CSV, a join among them, equal single-process DuckDB', async () => {
    e2e.events.clear();
    const r = (await e2e.driver.run(path.join(JOBS, 'dataframe-queries.ts'), {
      lineitem,
      orders,
      shufflePartitions: 3,
    })) as Record<string, unknown>;
    const li = `read_parquet('${lineitem}')`;
    const ordersTypes = `{${Object.entries(TPCH_TYPES.orders)
      .map(([c, t]) => `'${c}': '${t}'`)
      .join(', ')}}`;
    const od = `read_csv('${orders}', header = true, columns = ${ordersTypes})`;
    const pricing = await referenceRows(
      `SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
        sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, avg(l_quantity) AS avg_qty, avg(l_discount) AS avg_disc,
        count(*) AS count_order FROM ${li} WHERE l_shipdate <= DATE '1998-09-02'
        GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus`,
    );
    expect(normalised(r.pricing as Record<string, unknown>[])).toEqual(normalised(pricing));
    const revenue = await referenceRows(
      `SELECT sum(l_extendedprice * l_discount) AS revenue FROM ${li} WHERE l_shipdate >= DATE '1994-01-01'
        AND l_shipdate < DATE '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24`,
    );
    expect(normalised(r.revenue as Record<string, unknown>[])).toEqual(normalised(revenue));
    expect(r.topOrders).toEqual(
      await referenceRows(
        `SELECT o_orderkey, o_totalprice FROM ${od} ORDER BY o_totalprice DESC, o_orderkey LIMIT 5`,
      ),
    );
    expect(r.byDate).toEqual(
      await referenceRows(`SELECT o_orderkey, o_orderdate FROM ${od} ORDER BY o_orderdate DESC, o_orderkey`),
    );
    expect(normalised(r.priorities as Record<string, unknown>[], true)).toEqual(
      normalised(
        await referenceRows(`SELECT o_orderpriority, count(*) AS count FROM ${od} GROUP BY 1`),
        true,
      ),
    );
    const shipping = await referenceRows(
      `SELECT l_orderkey AS orderkey, o_orderdate, o_shippriority, sum(l_extendedprice * (1 - l_discount)) AS revenue
        FROM ${od} JOIN ${li} ON o_orderkey = l_orderkey
        WHERE o_orderdate < DATE '1995-03-15' AND l_shipdate > DATE '1995-03-15'
        GROUP BY 1, 2, 3 ORDER BY revenue DESC, o_orderdate, orderkey LIMIT 10`,
    );
    expect(shipping.length).toBe(10);
    expect(normalised(r.shipping as Record<string, unknown>[])).toEqual(normalised(shipping));
    expect(r.schema).toContain(' |-- sum_qty: decimal(38,2) (nullable = true)');
    // Sampling jobs of the range sorts are real (hidden) jobs; printSchema ran none.
    const jobs = e2e.events.of('job-start');
    expect(jobs.filter((j) => j.hidden).length).toBeGreaterThanOrEqual(1);
    expect(jobs.filter((j) => !j.hidden)).toHaveLength(6);
  });

  it('write.parquet commits one Parquet part per partition and _SUCCESS; errorifexists refuses, overwrite replaces', async () => {
    const output = path.join(dir, 'written');
    const params = { lineitem, output, mode: 'errorifexists' };
    const saved = (await e2e.driver.run(path.join(JOBS, 'dataframe-write.ts'), params)) as {
      partitions: number;
      records: number;
    };
    const expected = await referenceRows(
      `SELECT l_orderkey, l_linenumber, l_quantity, l_shipdate FROM read_parquet('${lineitem}') WHERE l_quantity > 25`,
    );
    expect(saved.partitions).toBe(3);
    expect(saved.records).toBe(expected.length);
    const files = (await readdir(output)).sort();
    expect(files).toEqual(['_SUCCESS', 'part-00000', 'part-00001', 'part-00002']);
    const written = await referenceRows(`SELECT * FROM read_parquet('${output}/part-*')`);
    expect(normalised(written, true)).toEqual(normalised(expected, true));
    await expect(e2e.driver.run(path.join(JOBS, 'dataframe-write.ts'), params)).rejects.toThrow(/exists/);
    await e2e.driver.run(path.join(JOBS, 'dataframe-write.ts'), { ...params, mode: 'overwrite' });
    expect((await readdir(output)).sort()).toEqual(files);
  });

  it('a column that does not exist fails the run on the driver, naming it and the call site, before any job', async () => {
    e2e.events.clear();
    await expect(e2e.driver.run(path.join(JOBS, 'dataframe-bad-column.ts'), {})).rejects.toThrow(
      /where at dataframe-bad-column\.ts:\d+: .*"amout" not found/s,
    );
    expect(e2e.events.of('job-start')).toHaveLength(0);
  });
});
