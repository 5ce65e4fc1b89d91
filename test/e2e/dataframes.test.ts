/**
 * DataFrame jobs on the real scheduler: a local fabric of executor processes on Azurite, every
 * task's relational work run by the executors' DuckDB, exchanges through Blob Storage. Each
 * result equals DuckDB running the same SQL in one process over the same files.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import type { E2EFabric } from '../helpers/e2e.js';
import { closeTpchE2E, ordersCsv, startTpchE2E } from '../helpers/tpch-e2e.js';
import { normalised, referenceRows } from '../sql/tpch-data.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
let dir: string;
let lineitem: string;
let orders: string;

beforeAll(async () => {
  ({ e2e, dir, lineitem, orders } = await startTpchE2E('df', 0.5, 7));
});

afterAll(async () => {
  await closeTpchE2E({ e2e, dir });
});

/** TPC-H Q1 as the job computes it, over the relation `li`. */
function pricingSql(li: string): string {
  return `SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
    sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, avg(l_quantity) AS avg_qty, avg(l_discount) AS avg_disc,
    count(*) AS count_order FROM ${li} WHERE l_shipdate <= DATE '1998-09-02'
    GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus`;
}

/** TPC-H Q3 without customers, as the job computes it. */
function shippingSql(li: string, od: string): string {
  return `SELECT l_orderkey AS orderkey, o_orderdate, o_shippriority, sum(l_extendedprice * (1 - l_discount)) AS revenue
    FROM ${od} JOIN ${li} ON o_orderkey = l_orderkey
    WHERE o_orderdate < DATE '1995-03-15' AND l_shipdate > DATE '1995-03-15'
    GROUP BY 1, 2, 3 ORDER BY revenue DESC, o_orderdate, orderkey LIMIT 10`;
}

describe('DataFrames on executors', () => {
  it('TPC-H-style queries over Parquet and CSV, a join among them, equal single-process DuckDB', async () => {
    e2e.events.clear();
    const r = (await e2e.driver.run(path.join(JOBS, 'dataframe-queries.ts'), {
      lineitem,
      orders,
      shufflePartitions: 3,
    })) as Record<string, unknown>;
    const li = `read_parquet('${lineitem}')`;
    const od = ordersCsv(orders);
    const pricing = await referenceRows(pricingSql(li));
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
    const shipping = await referenceRows(shippingSql(li, od));
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
    expect(files).toHaveLength(4);
    expect(files[0]).toBe('_SUCCESS');
    files.slice(1).forEach((f, p) => {
      expect(f).toMatch(new RegExp(`^part-0000${p}-[-0-9a-f]{36}\\.c000\\.snappy\\.parquet$`));
    });
    const written = await referenceRows(`SELECT * FROM read_parquet('${output}/part-*')`);
    expect(normalised(written, true)).toEqual(normalised(expected, true));
    await expect(e2e.driver.run(path.join(JOBS, 'dataframe-write.ts'), params)).rejects.toThrow(/exists/);
    await e2e.driver.run(path.join(JOBS, 'dataframe-write.ts'), { ...params, mode: 'overwrite' });
    // Replaced: as many parts, named by the new write's id.
    const replaced = (await readdir(output)).sort();
    expect(replaced).toHaveLength(4);
    expect(replaced.slice(1).some((f) => files.includes(f))).toBe(false);
  });

  it('reads Parquet and CSV from az:// blobs (schema read by the driver from a blob) and writes Parquet to az://', async () => {
    const blobs = new BlobStore(connectStorage({ connectionString: e2e.fabric.connectionString }));
    const container = `df-${Math.random().toString(36).slice(2, 8)}`;
    await blobs.ensureContainers([container]);
    for (const file of (await readdir(dir)).filter((f) =>
      /^(lineitem-\d+\.parquet|orders-\d+\.csv)$/.test(f),
    )) {
      await blobs.put(container, `tpch/${file}`, await readFile(path.join(dir, file)));
    }
    const r = (await e2e.driver.run(path.join(JOBS, 'dataframe-queries.ts'), {
      lineitem: `az://${container}/tpch/lineitem-*.parquet`,
      orders: `az://${container}/tpch/orders-*.csv`,
      shufflePartitions: 2,
    })) as Record<string, unknown>;
    const local = (await e2e.driver.run(path.join(JOBS, 'dataframe-queries.ts'), {
      lineitem,
      orders,
      shufflePartitions: 2,
    })) as Record<string, unknown>;
    expect(normalised(r.pricing as Record<string, unknown>[])).toEqual(
      normalised(local.pricing as Record<string, unknown>[]),
    );
    expect(r.topOrders).toEqual(local.topOrders);
    expect(normalised(r.shipping as Record<string, unknown>[])).toEqual(
      normalised(local.shipping as Record<string, unknown>[]),
    );
    const saved = (await e2e.driver.run(path.join(JOBS, 'dataframe-write.ts'), {
      lineitem: `az://${container}/tpch/lineitem-*.parquet`,
      output: `az://${container}/out/big`,
      mode: 'errorifexists',
    })) as { partitions: number };
    expect(saved.partitions).toBe(3);
    const names = (await blobs.list(container, 'out/big/')).map((b) => b.name).sort();
    expect(names).toHaveLength(4);
    expect(names[0]).toBe('out/big/_SUCCESS');
    names.slice(1).forEach((name, p) => {
      expect(name).toMatch(new RegExp(`^out/big/part-0000${p}-[-0-9a-f]{36}\\.c000\\.snappy\\.parquet$`));
    });
  });

  it('Parquet reaches the RDD API through rdd(), and back through toDF into SQL joined with the scan: equals single-process DuckDB', async () => {
    e2e.events.clear();
    const r = (await e2e.driver.run(path.join(JOBS, 'dataframe-bridge.ts'), {
      lineitem,
      shufflePartitions: 3,
    })) as { joined: Record<string, unknown>[]; partitions: number[]; plan: string };
    const li = `read_parquet('${lineitem}')`;
    const expected = await referenceRows(
      `WITH per_order AS (SELECT l_orderkey AS orderkey, count(*) AS lines, sum(l_quantity) AS quantity FROM ${li} GROUP BY 1)
       SELECT l.l_returnflag, count(*) AS n, sum(q.lines) AS lines, sum(q.quantity) AS quantity
       FROM (SELECT DISTINCT l_orderkey, l_returnflag FROM ${li}) l JOIN per_order q ON l.l_orderkey = q.orderkey
       GROUP BY l.l_returnflag ORDER BY l.l_returnflag`,
    );
    expect(normalised(r.joined)).toEqual(normalised(expected));
    // rdd() keeps the scan's partitions: one per Parquet split, together every row.
    const total = await referenceRows(`SELECT count(*) AS n FROM ${li}`);
    expect(r.partitions.reduce((a, b) => a + b, 0)).toBe(total[0]!.n);
    expect(r.plan).toMatch(/Dataset ⇄ DataFrame bridge/);
    // Across the bridge each task reads exactly what one map task wrote (its own partition's one
    // segment: the other map outputs' segments for it are empty and cost no request).
    const stages = e2e.events.of('stage-submitted');
    const ends = e2e.events.of('task-end').filter((t) => t.status === 'succeeded');
    // Bridge exchanges: written by a Dataset stage ending in toDF, or read by a stage starting at rdd.
    const pairs: [(typeof stages)[number], (typeof stages)[number]][] = [];
    for (const map of stages.filter((s) => / → toDF at /.test(s.name) && s.kind === 'shuffle-map'))
      pairs.push([map, stages.find((s) => s.jobId === map.jobId && s.parentStageIds.includes(map.stageId))!]);
    for (const reader of stages.filter((s) => /^rdd at /.test(s.name))) {
      // A later job reuses the shuffle an earlier one wrote (its map stage is skipped, not submitted).
      const map = stages.find((s) => s.jobId === reader.jobId && s.stageId === reader.parentStageIds[0]);
      if (map) pairs.push([map, reader]);
    }
    expect(pairs.map(([, reader]) => reader.name.split(' ')[0])).toEqual(['toDF', 'rdd']);
    for (const [map, reader] of pairs) {
      const written = ends.filter((t) => t.jobId === map.jobId && t.stageId === map.stageId);
      const read = ends.filter((t) => t.jobId === reader.jobId && t.stageId === reader.stageId);
      expect(read.length).toBe(written.length);
      for (const w of written) {
        const r2 = read.find((t) => t.partition === w.partition)!;
        expect(r2.metrics!.shuffleReadBytes).toBe(w.metrics!.shuffleWriteBytes);
      }
    }
  });

  it('a record that does not match the toDF schema fails its task once, naming the job, stage, partition, column, value and call', async () => {
    e2e.events.clear();
    await expect(e2e.driver.run(path.join(JOBS, 'dataframe-bridge-bad.ts'), {})).rejects.toThrow(
      /job \d+ aborted: stage \d+, partition 2 failed .*toDF at dataframe-bridge-bad\.ts:\d+: partition 2: column "v" \(INTEGER\) cannot hold "three"/,
    );
    const failed = e2e.events.of('task-end').filter((t) => t.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.partition).toBe(2);
  });

  it('a column that does not exist fails the run on the driver, naming it and the call site, before any job', async () => {
    e2e.events.clear();
    await expect(e2e.driver.run(path.join(JOBS, 'dataframe-bad-column.ts'), {})).rejects.toThrow(
      /where at dataframe-bad-column\.ts:\d+: .*"amout" not found/s,
    );
    expect(e2e.events.of('job-start')).toHaveLength(0);
  });
});
