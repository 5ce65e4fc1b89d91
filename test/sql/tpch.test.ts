/**
 * TPC-H-style queries as DataFrames — the pricing summary (Q1), the revenue forecast (Q6), an
 * order-priority count over a date range (Q4 without its subquery) and the top orders — run
 * distributed in one process over generated Parquet and JSON Lines files, equal DuckDB running the
 * same SQL in one process, across file, split and shuffle-partition counts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { avg, col, count, expr, sum } from '../../engine/sql/column.js';
import { runDataFrameJob } from './local-dataframe-runner.js';
import { normalised, referenceRows, TPCH_TYPES, tpchRows, writeTable } from './tpch-data.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-tpch-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const Q1 = `SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
  sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
  avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order
  FROM {l} WHERE l_shipdate <= DATE '1998-09-02' GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus`;
const Q6 = `SELECT sum(l_extendedprice * l_discount) AS revenue FROM {l} WHERE l_shipdate >= DATE '1994-01-01'
  AND l_shipdate < DATE '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24`;
const Q4 = `SELECT o_orderpriority, count(*) AS order_count FROM {o} WHERE o_orderdate >= DATE '1993-07-01'
  AND o_orderdate < DATE '1993-10-01' GROUP BY o_orderpriority ORDER BY o_orderpriority`;
const TOP =
  'SELECT o_orderkey, o_orderdate, o_totalprice FROM {o} ORDER BY o_totalprice DESC, o_orderkey LIMIT 10';

const job = defineJob(
  (ctx, p: { lineitem: string; orders: string; format: 'parquet' | 'json'; shuffle: number }) => {
    ctx.conf.set('spark.sql.shuffle.partitions', p.shuffle);
    const read = (path: string, table: 'lineitem' | 'orders') =>
      p.format === 'parquet' ? ctx.read.parquet(path) : ctx.read.json(path, { schema: TPCH_TYPES[table] });
    const lineitem = read(p.lineitem, 'lineitem');
    const orders = read(p.orders, 'orders');
    return {
      q1: lineitem
        .where("l_shipdate <= DATE '1998-09-02'")
        .groupBy('l_returnflag', 'l_linestatus')
        .agg(
          sum('l_quantity').as('sum_qty'),
          sum('l_extendedprice').as('sum_base_price'),
          sum(expr('l_extendedprice * (1 - l_discount)')).as('sum_disc_price'),
          sum(expr('l_extendedprice * (1 - l_discount) * (1 + l_tax)')).as('sum_charge'),
          avg('l_quantity').as('avg_qty'),
          avg('l_extendedprice').as('avg_price'),
          avg('l_discount').as('avg_disc'),
          count('*').as('count_order'),
        )
        .orderBy('l_returnflag', 'l_linestatus')
        .collect(),
      q6: lineitem
        .where(
          col('l_shipdate')
            .geq(expr("DATE '1994-01-01'"))
            .and(col('l_shipdate').lt(expr("DATE '1995-01-01'"))),
        )
        .where(col('l_discount').between(0.05, 0.07))
        .where(col('l_quantity').lt(24))
        .agg(sum(col('l_extendedprice').multiply(col('l_discount'))).as('revenue'))
        .collect(),
      q4: orders
        .where("o_orderdate >= DATE '1993-07-01' AND o_orderdate < DATE '1993-10-01'")
        .groupBy('o_orderpriority')
        .agg(count('*').as('order_count'))
        .orderBy('o_orderpriority')
        .collect(),
      top: orders
        .select('o_orderkey', 'o_orderdate', 'o_totalprice')
        .orderBy(col('o_totalprice').desc(), 'o_orderkey')
        .limit(10)
        .collect(),
    };
  },
);

describe('TPC-H-style queries equal single-process DuckDB', () => {
  const layouts = [
    { format: 'parquet' as const, files: 1, splits: 1, shuffle: 1 },
    { format: 'parquet' as const, files: 4, splits: 1, shuffle: 3 },
    { format: 'json' as const, files: 2, splits: 3, shuffle: 5 },
  ];
  for (const layout of layouts) {
    it(`${layout.format}, ${layout.files} file(s), ${layout.splits} split(s) per file, ${layout.shuffle} shuffle partition(s)`, async () => {
      const rows = tpchRows(1, 3);
      const at = path.join(dir, `${layout.format}-${layout.files}`);
      const lineitem = await writeTable(
        at,
        'lineitem',
        rows.lineitem,
        TPCH_TYPES.lineitem,
        layout.format,
        layout.files,
      );
      const orders = await writeTable(
        at,
        'orders',
        rows.orders,
        TPCH_TYPES.orders,
        layout.format,
        layout.files,
      );
      const r = (await runDataFrameJob(
        job,
        { lineitem, orders, format: layout.format, shuffle: layout.shuffle },
        { defaultParallelism: 3, splitsPerFile: layout.splits },
      )) as Record<string, Record<string, unknown>[]>;
      const scan = (glob: string, table: 'lineitem' | 'orders') =>
        layout.format === 'parquet'
          ? `read_parquet('${glob}')`
          : `read_json('${glob}', format = 'newline_delimited', columns = {${Object.entries(TPCH_TYPES[table])
              .map(([c, t]) => `'${c}': '${t}'`)
              .join(', ')}})`;
      const sql = (q: string) =>
        q.replace('{l}', scan(lineitem, 'lineitem')).replace('{o}', scan(orders, 'orders'));
      expect(normalised(r.q1!)).toEqual(normalised(await referenceRows(sql(Q1))));
      expect(normalised(r.q6!)).toEqual(normalised(await referenceRows(sql(Q6))));
      expect(r.q4).toEqual(await referenceRows(sql(Q4)));
      expect(r.top).toEqual(await referenceRows(sql(TOP)));
      expect(r.q1!.length).toBeGreaterThan(2);
    });
  }
});
