/**
 * Every DataFrame operator, run distributed (stages, exchanges, DuckDB per task, in one process)
 * over Parquet, CSV and JSON Lines files, equals DuckDB running the same SQL in one process over
 * the same files — for several file, split and shuffle-partition counts, with nulls in keys and
 * values and with empty partitions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { avg, col, count, countDistinct, expr, lit, max, min, sum } from '../../engine/sql/column.js';
import type { DataFrame } from '../../engine/sql/dataframe.js';
import { runDataFrameJob } from './local-dataframe-runner.js';
import { read, SALES_TYPES, SCHEMA, salesRows, scanSql } from './sales-table.js';
import { normalised, referenceRows, type TableFormat, writeTable } from './tpch-data.js';

let dir: string;
const globs = new Map<string, string>();

/** Layouts: files per format, line splits per text file, shuffle partitions. */
const LAYOUTS = [
  { files: 1, splits: 1, shuffle: 1 },
  { files: 3, splits: 2, shuffle: 4 },
  { files: 2, splits: 6, shuffle: 7 },
];
/** Each format with the layouts that vary what it splits by (Parquet: files; text: lines), kept few for the suite's time. */
const COMBINATIONS: [TableFormat, (typeof LAYOUTS)[number]][] = [
  ['parquet', LAYOUTS[0]!],
  ['parquet', LAYOUTS[1]!],
  ['csv', LAYOUTS[2]!],
  ['json', LAYOUTS[1]!],
  ['json', LAYOUTS[2]!],
];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-df-ops-'));
  const rows = salesRows(240);
  for (const [format, { files }] of COMBINATIONS) {
    globs.set(
      `${format}/${files}`,
      await writeTable(path.join(dir, `${format}-${files}`), 'sales', rows, SALES_TYPES, format, files),
    );
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An operator case: the DataFrame side, the SQL side (over `{t}`), and whether row order is part of the answer. */
interface Case {
  name: string;
  df: (sales: DataFrame) => DataFrame;
  sql: string;
  ordered?: boolean;
}

const CASES: Case[] = [
  {
    name: 'select with expressions',
    df: (s) => s.select('id', col('amount').multiply(2).as('twice'), expr('qty + 1 AS q1')),
    sql: 'SELECT id, amount * 2 AS twice, qty + 1 AS q1 FROM {t}',
  },
  {
    name: 'where on a Column',
    df: (s) => s.where(col('amount').gt(250).and(col('region').isNotNull())),
    sql: 'SELECT * FROM {t} WHERE amount > 250 AND region IS NOT NULL',
  },
  {
    name: 'filter with SQL text, nulls kept out',
    df: (s) => s.filter("region = 'north' OR amount IS NULL"),
    sql: "SELECT * FROM {t} WHERE region = 'north' OR amount IS NULL",
  },
  {
    name: 'withColumn adds and replaces in place',
    df: (s) => s.withColumn('big', col('amount').geq(300)).withColumn('qty', col('qty').multiply(10)),
    sql: 'SELECT id, region, amount, qty * 10 AS qty, day, amount >= 300 AS big FROM {t}',
  },
  {
    name: 'withColumnRenamed and drop (missing names ignored)',
    df: (s) => s.withColumnRenamed('amount', 'value').withColumnRenamed('nope', 'x').drop('day', 'nope'),
    sql: 'SELECT id, region, amount AS value, qty FROM {t}',
  },
  {
    name: 'groupBy with sum, count, avg, min, max over null keys and values',
    df: (s) =>
      s
        .groupBy('region')
        .agg(
          sum('amount').as('total'),
          count('*').as('n'),
          count('amount').as('priced'),
          avg('amount').as('mean'),
          min('day').as('first'),
          max('qty').as('most'),
        ),
    sql: 'SELECT region, sum(amount) AS total, count(*) AS n, count(amount) AS priced, avg(amount) AS mean, min(day) AS first, max(qty) AS most FROM {t} GROUP BY region',
  },
  {
    name: 'groupBy on two keys with a count and countDistinct',
    df: (s) => s.groupBy('region', 'qty').agg(countDistinct('day').as('days'), sum('qty').as('q')),
    sql: 'SELECT region, qty, count(DISTINCT day) AS days, CAST(sum(qty) AS BIGINT) AS q FROM {t} GROUP BY region, qty',
  },
  {
    name: 'global aggregation',
    df: (s) => s.agg(sum('amount').as('total'), count('*').as('n'), avg('qty').as('q')),
    sql: 'SELECT sum(amount) AS total, count(*) AS n, avg(qty) AS q FROM {t}',
  },
  {
    name: 'aggregation of no rows',
    df: (s) => s.where(col('id').lt(0)).groupBy('region').count(),
    sql: 'SELECT region, count(*) AS count FROM {t} WHERE id < 0 GROUP BY region',
  },
  {
    name: 'global aggregation of no rows',
    df: (s) => s.where(col('id').lt(0)).agg(count('*').as('n'), sum('amount').as('s')),
    sql: 'SELECT count(*) AS n, sum(amount) AS s FROM {t} WHERE id < 0',
  },
  {
    name: 'orderBy descending with nulls, then id',
    df: (s) => s.orderBy(col('amount').desc(), 'id'),
    sql: 'SELECT * FROM {t} ORDER BY amount DESC NULLS LAST, id ASC NULLS FIRST',
    ordered: true,
  },
  {
    name: 'orderBy on a string key with nulls first',
    df: (s) => s.sort('region', col('id').desc()),
    sql: 'SELECT * FROM {t} ORDER BY region ASC NULLS FIRST, id DESC',
    ordered: true,
  },
  {
    name: 'orderBy then limit is the top n',
    df: (s) => s.orderBy(col('qty').desc(), col('id')).limit(7),
    sql: 'SELECT * FROM {t} ORDER BY qty DESC, id LIMIT 7',
    ordered: true,
  },
  {
    name: 'groupBy then orderBy',
    df: (s) => s.groupBy('day').agg(sum('qty').as('q')).orderBy(col('q').desc(), 'day'),
    sql: 'SELECT day, CAST(sum(qty) AS BIGINT) AS q FROM {t} GROUP BY day ORDER BY q DESC, day',
    ordered: true,
  },
  {
    name: 'limit without order has the right count',
    df: (s) => s.limit(5).agg(count('*').as('n')),
    sql: 'SELECT count(*) AS n FROM (SELECT * FROM {t} LIMIT 5)',
  },
  {
    name: 'literal and arithmetic columns',
    df: (s) =>
      s.select(col('id'), lit('x').as('tag'), col('qty').divide(0).as('z'), col('qty').mod(4).as('m')),
    sql: "SELECT id, 'x' AS tag, CAST(NULL AS DOUBLE) AS z, qty % 4 AS m FROM {t}",
  },
];

describe('DataFrame operators equal single-process DuckDB', () => {
  for (const [format, layout] of COMBINATIONS) {
    it(`${format}, ${layout.files} file(s), ${layout.splits} split(s) per text file, ${layout.shuffle} shuffle partition(s)`, async () => {
      const glob = globs.get(`${format}/${layout.files}`)!;
      const job = defineJob((ctx) => {
        ctx.conf.set('spark.sql.shuffle.partitions', layout.shuffle);
        const sales = read(ctx, format, glob);
        return Object.fromEntries(CASES.map((c) => [c.name, c.df(sales).collect()]));
      });
      const results = (await runDataFrameJob(job, undefined, {
        defaultParallelism: 3,
        splitsPerFile: layout.splits,
      })) as Record<string, Record<string, unknown>[]>;
      for (const c of CASES) {
        const expected = await referenceRows(c.sql.replace('{t}', scanSql(format, glob)));
        expect(normalised(results[c.name]!, !c.ordered), c.name).toEqual(normalised(expected, !c.ordered));
      }
    });
  }

  it('count, take, first and show over createDataFrame rows, empty partitions included', async () => {
    const rows = salesRows(5);
    const job = defineJob((ctx) => {
      const df = ctx.createDataFrame(rows, SCHEMA, 8);
      return {
        count: df.count(),
        take: df.orderBy('id').take(2),
        first: df.orderBy(col('id').desc()).first(),
        none: df.where('id > 100').first(),
        show: df.select('id', 'region').orderBy('id').show(3),
      };
    });
    const r = (await runDataFrameJob(job, undefined, { defaultParallelism: 4 })) as Record<string, unknown>;
    expect(r.count).toBe(5);
    expect((r.take as { id: number }[]).map((x) => x.id)).toEqual([0, 1]);
    expect((r.first as { id: number }).id).toBe(4);
    expect(r.none).toBeNull();
    expect(r.show).toBe(
      [
        '+---+------+',
        '| id|region|',
        '+---+------+',
        '|  0| north|',
        '|  1|  east|',
        '|  2|  null|',
        '+---+------+',
        'only showing top 3 rows',
        '',
      ].join('\n'),
    );
  });
});
