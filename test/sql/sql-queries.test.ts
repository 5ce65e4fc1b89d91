/**
 * `ctx.sql` over temp views, run distributed (stages, exchanges, DuckDB per task, in one process),
 * equals DuckDB running the very same SQL text in one process over the same files — across
 * formats, file, split and shuffle-partition counts, with null keys and values and with empty
 * partitions; `explain()` of a SQL query shows the stages and exchanges of the equivalent
 * DataFrame calls.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../duckdb/values.js';
import type { JobContext } from '../../engine/dataset/context.js';
import { defineJob } from '../../engine/dataset/job.js';
import { col, count, sum } from '../../engine/sql/column.js';
import type { DataFrame } from '../../engine/sql/dataframe.js';
import { runDataFrameJob } from './local-dataframe-runner.js';
import { read, SALES_TYPES, salesRows, scanSql } from './sales-table.js';
import { normalised, type TableFormat, writeTable } from './tpch-data.js';

let dir: string;
const files = new Map<string, { sales: string; regions: string }>();

const REGION_TYPES = { region: 'VARCHAR', manager: 'VARCHAR', target: 'INTEGER' };
/** A small dimension table: a null region, a region no sale has, a manager of two regions. */
const REGIONS = [
  { region: 'north', manager: 'ann', target: 3 },
  { region: 'south', manager: 'bob', target: 5 },
  { region: 'east', manager: 'ann', target: 1 },
  { region: 'central', manager: 'cy', target: 7 },
  { region: null, manager: 'dee', target: null },
];

/** Format, sales rows, files, line splits per text file, shuffle partitions (the tiny one makes empty partitions). */
const LAYOUTS: { format: TableFormat; rows: number; files: number; splits: number; shuffle: number }[] = [
  { format: 'parquet', rows: 240, files: 1, splits: 1, shuffle: 1 },
  { format: 'parquet', rows: 240, files: 3, splits: 1, shuffle: 4 },
  { format: 'csv', rows: 240, files: 2, splits: 3, shuffle: 3 },
  { format: 'json', rows: 7, files: 3, splits: 4, shuffle: 5 },
];

const layoutKey = (l: (typeof LAYOUTS)[number]) => `${l.format}-${l.rows}-${l.files}`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-sql-'));
  for (const layout of LAYOUTS) {
    const key = layoutKey(layout);
    const where = path.join(dir, key);
    files.set(key, {
      sales: await writeTable(
        where,
        'sales',
        salesRows(layout.rows),
        SALES_TYPES,
        layout.format,
        layout.files,
      ),
      regions: await writeTable(where, 'regions', REGIONS, REGION_TYPES, 'parquet', 1),
    });
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A query case: the SQL (the same text for both runs) and whether its row order is the answer. */
interface Case {
  name: string;
  sql: string;
  ordered?: boolean;
}

const CASES: Case[] = [
  { name: 'every row', sql: 'SELECT * FROM sales' },
  {
    name: 'WHERE with AND and an expression',
    sql: 'SELECT id, amount * 2 AS twice FROM sales WHERE amount > 100 AND region IS NOT NULL',
  },
  {
    name: 'GROUP BY with every split aggregate, null key included',
    sql: 'SELECT region, count(*) AS n, sum(qty) AS q, avg(amount) AS a, min(day) AS d, max(amount) AS top FROM sales GROUP BY region ORDER BY region',
    ordered: true,
  },
  {
    name: 'HAVING on an aggregate not selected',
    sql: 'SELECT qty, count(*) AS n FROM sales GROUP BY qty HAVING sum(id) > 100 ORDER BY qty',
    ordered: true,
  },
  {
    name: 'an expression over aggregates and count(DISTINCT)',
    sql: 'SELECT region, sum(amount) / count(amount) AS mean, count(DISTINCT qty) AS kinds FROM sales GROUP BY region ORDER BY region NULLS LAST',
    ordered: true,
  },
  {
    name: 'GROUP BY an expression, ORDER BY position',
    sql: 'SELECT qty % 3 AS bucket, count(*), max(id) FROM sales GROUP BY qty % 3 ORDER BY 1',
    ordered: true,
  },
  {
    name: 'GROUP BY position',
    sql: 'SELECT region IS NULL AS unknown, sum(qty) FROM sales GROUP BY 1',
  },
  { name: 'a global aggregate', sql: 'SELECT count(*), sum(amount), max(day), min(region) FROM sales' },
  {
    name: 'an aggregate DuckDB has and the DataFrame API does not (aggregated once)',
    sql: "SELECT region, stddev_samp(qty) AS sd, string_agg(DISTINCT CAST(qty AS VARCHAR), ',' ORDER BY CAST(qty AS VARCHAR)) AS qs FROM sales GROUP BY region",
  },
  {
    name: 'CASE, CAST, IN, BETWEEN and LIKE',
    sql: "SELECT id, CASE WHEN amount IS NULL THEN 'none' WHEN amount > 250 THEN 'high' ELSE 'low' END AS band, CAST(qty AS DOUBLE) / 2 AS half FROM sales WHERE region IN ('north', 'south') AND qty BETWEEN 2 AND 6 AND region LIKE '%o%' ORDER BY id",
    ordered: true,
  },
  {
    name: 'ORDER BY DESC then LIMIT is the top n',
    sql: 'SELECT id, amount FROM sales ORDER BY amount DESC, id LIMIT 7',
    ordered: true,
  },
  {
    name: "ORDER BY ascending puts nulls first (Spark's order)",
    sql: 'SELECT region, id FROM sales ORDER BY region, id DESC',
    ordered: true,
  },
  {
    name: 'ORDER BY an expression not selected',
    sql: 'SELECT id FROM sales ORDER BY qty * 2 DESC, id LIMIT 10',
    ordered: true,
  },
  {
    name: 'ORDER BY an aggregate not selected',
    sql: 'SELECT region FROM sales GROUP BY region ORDER BY sum(qty) DESC, region NULLS LAST',
    ordered: true,
  },
  { name: 'LIMIT inside a subquery', sql: 'SELECT count(*) AS n FROM (SELECT id FROM sales LIMIT 10) t' },
  { name: 'SELECT DISTINCT', sql: 'SELECT DISTINCT region, qty FROM sales' },
  {
    name: 'inner join on a key of one name',
    sql: 'SELECT s.id, s.region, r.manager FROM sales s JOIN regions r ON s.region = r.region',
  },
  {
    name: 'left join keeps the sales with no region row',
    sql: 'SELECT s.id, r.manager, r.target FROM sales s LEFT JOIN regions r ON r.region = s.region',
  },
  {
    name: 'right and full joins',
    sql: 'SELECT s.id, r.manager FROM sales s RIGHT JOIN regions r ON s.region = r.region UNION ALL SELECT s.id, r.manager FROM sales s FULL OUTER JOIN regions r ON s.region = r.region',
  },
  {
    name: 'join on keys of different names keeps both columns',
    sql: 'SELECT s.id, s.qty, r.target, r.manager FROM sales s JOIN (SELECT manager, target FROM regions) r ON s.qty = r.target',
  },
  {
    name: 'join USING',
    sql: 'SELECT region, count(*) AS n FROM sales JOIN regions USING (region) GROUP BY region',
  },
  { name: 'semi join', sql: 'SELECT id FROM sales SEMI JOIN regions ON sales.region = regions.region' },
  {
    name: 'anti join',
    sql: 'SELECT id, region FROM sales ANTI JOIN regions ON sales.region = regions.region',
  },
  {
    name: 'inner join with a further condition',
    sql: 'SELECT s.id FROM sales s JOIN regions r ON s.region = r.region AND s.qty > r.target',
  },
  {
    name: 'join, GROUP BY, ORDER BY',
    sql: 'SELECT r.manager, sum(s.amount) AS total, count(*) AS n FROM sales s JOIN regions r ON s.region = r.region GROUP BY r.manager ORDER BY total DESC',
    ordered: true,
  },
  {
    name: 'a subquery in FROM',
    sql: 'SELECT t.region, t.n FROM (SELECT region, count(*) AS n FROM sales GROUP BY region) t WHERE t.n > 1',
  },
  {
    name: 'a CTE used twice',
    sql: 'WITH big AS (SELECT id, amount FROM sales WHERE amount > 200), top AS (SELECT id, amount AS a2 FROM big WHERE amount > 300) SELECT b.id, t.a2 FROM big b JOIN top t ON b.id = t.id',
  },
  {
    name: 'UNION removes duplicates',
    sql: 'SELECT region FROM sales WHERE qty = 1 UNION SELECT region FROM regions',
  },
  {
    name: 'UNION ALL BY NAME',
    sql: 'SELECT region, id FROM sales WHERE qty = 2 UNION ALL BY NAME SELECT target AS id, region FROM regions',
  },
  {
    name: 'aggregate over a UNION ALL, ordered',
    sql: 'SELECT region, count(*) AS n FROM (SELECT region FROM sales UNION ALL SELECT region FROM regions) u GROUP BY region ORDER BY n DESC, region',
    ordered: true,
  },
  {
    name: 'a view defined from a ctx.sql result',
    sql: 'SELECT region, count(*) AS n FROM busy GROUP BY region',
  },
];

/** Views the job defines from SQL (and the reference defines the same way). */
const SQL_VIEWS = { busy: 'SELECT * FROM sales WHERE qty > 3' };

/** Rows as value arrays by position (DuckDB names `count(*)` `count_star()`, Spark `count(1)`), numbers rounded. */
function values(rows: readonly Record<string, unknown>[], sorted: boolean): unknown[][] {
  const asObjects = rows.map((r) => Object.fromEntries(Object.values(r).map((v, i) => [String(i), v])));
  return normalised(asObjects, sorted).map((r) => Object.values(r));
}

/** The same SQL in one DuckDB, over views of the same files, with Spark's default null order. */
async function reference(views: Record<string, string>, sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    await connection.run("SET default_null_order = 'nulls_first_on_asc_last_on_desc'");
    for (const [name, query] of Object.entries(views))
      await connection.run(`CREATE VIEW ${name} AS ${query}`);
    const reader = await connection.runAndReadAll(sql);
    const names = reader.columnNames();
    return rowsOf(reader).map((r) => Object.fromEntries(names.map((n, i) => [`${i}:${n}`, r[i]])));
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

function defineViews(ctx: JobContext, format: TableFormat, sales: string, regions: string): DataFrame {
  const salesDf = read(ctx, format, sales);
  salesDf.createOrReplaceTempView('sales');
  ctx.read.parquet(regions).createTempView('regions');
  for (const [name, query] of Object.entries(SQL_VIEWS)) ctx.sql(query).createOrReplaceTempView(name);
  return salesDf;
}

describe('ctx.sql equals single-process DuckDB running the same SQL', () => {
  for (const layout of LAYOUTS) {
    it(`${layout.format}, ${layout.rows} rows in ${layout.files} file(s), ${layout.splits} split(s) per text file, ${layout.shuffle} shuffle partition(s)`, async () => {
      const { sales, regions } = files.get(layoutKey(layout))!;
      const job = defineJob((ctx) => {
        ctx.conf.set('spark.sql.shuffle.partitions', layout.shuffle);
        defineViews(ctx, layout.format, sales, regions);
        return Object.fromEntries(CASES.map((c) => [c.name, ctx.sql(c.sql).collect()]));
      });
      const results = (await runDataFrameJob(job, undefined, {
        defaultParallelism: 3,
        splitsPerFile: layout.splits,
      })) as Record<string, Record<string, unknown>[]>;
      const views = {
        sales: `SELECT * FROM ${scanSql(layout.format, sales)}`,
        regions: `SELECT * FROM read_parquet('${regions}')`,
        ...SQL_VIEWS,
      };
      for (const c of CASES) {
        const expected = await reference(views, c.sql);
        expect(values(results[c.name]!, !c.ordered), c.name).toEqual(values(expected, !c.ordered));
      }
    }, 300_000);
  }

  it('a SQL result takes further DataFrame calls, and output names follow Spark', async () => {
    const { sales, regions } = files.get(layoutKey(LAYOUTS[1]!))!;
    const job = defineJob((ctx) => {
      defineViews(ctx, 'parquet', sales, regions);
      const perRegion = ctx
        .sql('SELECT region, qty FROM sales WHERE qty > 2')
        .groupBy('region')
        .agg(sum('qty').as('q'), count('*').as('n'));
      return {
        chained: perRegion.orderBy(col('q').desc(), 'region').collect(),
        names: ctx.sql(
          'SELECT region, count(*), sum(qty), max(id) AS top, id + 1 FROM sales GROUP BY region, id',
        ).schema,
      };
    });
    const r = (await runDataFrameJob(job, undefined, { defaultParallelism: 2 })) as {
      chained: Record<string, unknown>[];
      names: { fields: { name: string }[] };
    };
    const expected = await reference(
      { sales: `SELECT * FROM read_parquet('${sales}')` },
      "SET default_null_order = 'nulls_first_on_asc_last_on_desc'; SELECT region, sum(qty) AS q, count(*) AS n FROM sales WHERE qty > 2 GROUP BY region ORDER BY q DESC, region",
    );
    expect(values(r.chained, false)).toEqual(values(expected, false));
    expect(r.names.fields.map((f) => f.name)).toEqual(['region', 'count(1)', 'sum(qty)', 'top', '(id + 1)']);
  });
});

/** The stage lines of an explain (`Stage 1 (shuffle-map, 4 tasks) → hash exchange … on [region]`). */
function stages(explain: string): string[] {
  return explain.split('\n').filter((line) => /^Stage \d+ /.test(line));
}

describe('explain of a SQL query shows the stages and exchanges of the equivalent DataFrame calls', () => {
  const pairs: { name: string; sql: string; df: (sales: DataFrame, regions: DataFrame) => DataFrame }[] = [
    {
      name: 'filter, group, order',
      sql: 'SELECT region, sum(qty) AS q FROM sales WHERE amount > 10 GROUP BY region ORDER BY q DESC',
      df: (s) =>
        s.where(col('amount').gt(10)).groupBy('region').agg(sum('qty').as('q')).orderBy(col('q').desc()),
    },
    {
      name: 'join on a key of one name',
      sql: 'SELECT * FROM sales JOIN regions USING (region)',
      df: (s, r) => s.join(r, 'region'),
    },
    {
      name: 'join, then aggregate',
      sql: 'SELECT manager, count(*) AS n FROM sales s JOIN regions r ON s.region = r.region GROUP BY manager',
      df: (s, r) => s.join(r, 'region').groupBy('manager').agg(count('*').as('n')),
    },
    {
      name: 'top n',
      sql: 'SELECT id FROM sales ORDER BY id LIMIT 5',
      df: (s) => s.select('id').orderBy('id').limit(5),
    },
    {
      name: 'distinct',
      sql: 'SELECT DISTINCT region FROM sales',
      df: (s) => s.select('region').distinct(),
    },
    {
      name: 'union all',
      sql: 'SELECT id FROM sales UNION ALL SELECT id FROM sales WHERE qty > 1',
      df: (s) => s.select('id').union(s.where('qty > 1').select('id')),
    },
  ];

  it('for aggregation, join, top n, distinct and union', async () => {
    const { sales, regions } = files.get(layoutKey(LAYOUTS[1]!))!;
    const job = defineJob((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 4);
      const s = defineViews(ctx, 'parquet', sales, regions);
      const r = ctx.read.parquet(regions);
      return Object.fromEntries(
        pairs.flatMap((p) => [
          [`${p.name}/sql`, ctx.sql(p.sql).explain()],
          [`${p.name}/df`, p.df(s, r).explain()],
        ]),
      );
    });
    const r = (await runDataFrameJob(job, undefined, { defaultParallelism: 3 })) as Record<string, string>;
    for (const p of pairs) {
      const sqlStages = stages(r[`${p.name}/sql`]!);
      expect(sqlStages.length, p.name).toBeGreaterThan(1);
      expect(sqlStages, p.name).toEqual(stages(r[`${p.name}/df`]!));
    }
  });
});
