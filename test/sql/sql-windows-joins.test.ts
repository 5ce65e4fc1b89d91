/**
 * Window functions and joins on a condition inside `ctx.sql` text, run distributed, equal DuckDB
 * running the very same SQL text in one process over the same rows — with null keys, null
 * values and ties, across partition counts (window results are ordered by a unique column, so
 * the comparison is exact).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../duckdb/values.js';
import { defineJob } from '../../engine/dataset/job.js';
import { col, sum } from '../../engine/sql/column.js';
import { row_number, Window } from '../../engine/sql/window.js';
import { runDataFrameJob } from './local-dataframe-runner.js';
import { normalised } from './tpch-data.js';

const GROUPS = ['a', 'b', null, 'c', 'a', 'b', 'a'];
/** Events: a null group, tied and null times, null values. */
const EVENTS = Array.from({ length: 41 }, (_, i) => ({
  id: i + 1,
  grp: GROUPS[i % GROUPS.length]!,
  t: i % 9 === 4 ? null : (i * 7) % 11,
  x: i % 6 === 5 ? null : ((i * 13) % 17) - 3.5,
}));
const EVENTS_SCHEMA = 'id LONG, grp STRING, t INT, x DOUBLE';
const EVENTS_TYPES = 'id BIGINT, grp VARCHAR, t INTEGER, x DOUBLE';

/** Ranges per key: overlapping ranges, a null key, a key no event has, a null bound. */
const DIMS = [
  { k: 'a', lo: 0, hi: 4, label: 'a-low' },
  { k: 'a', lo: 3, hi: 11, label: 'a-high' },
  { k: 'b', lo: 2, hi: 6, label: 'b-mid' },
  { k: 'c', lo: null, hi: 5, label: 'c-open' },
  { k: null, lo: 0, hi: 10, label: 'nokey' },
  { k: 'z', lo: 1, hi: 2, label: 'z-none' },
];
const DIMS_SCHEMA = 'k STRING, lo INT, hi INT, label STRING';
const DIMS_TYPES = 'k VARCHAR, lo INTEGER, hi INTEGER, label VARCHAR';

/** A query and whether its row order is the answer. */
interface Case {
  name: string;
  sql: string;
  ordered?: boolean;
}

const CASES: Case[] = [
  {
    name: 'ranking functions with ties and a null partition',
    sql: 'SELECT id, grp, row_number() OVER (PARTITION BY grp ORDER BY t DESC, id) AS rn, rank() OVER (PARTITION BY grp ORDER BY t) AS rk, dense_rank() OVER (PARTITION BY grp ORDER BY t DESC) AS dr FROM events',
  },
  {
    name: 'a running total (ROWS frame), a RANGE frame and a whole-partition count',
    sql: 'SELECT id, sum(x) OVER (PARTITION BY grp ORDER BY t, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running, avg(x) OVER (PARTITION BY grp ORDER BY t RANGE BETWEEN 2 PRECEDING AND 1 FOLLOWING) AS near, count(*) OVER (PARTITION BY grp) AS n, max(x) OVER (PARTITION BY grp ORDER BY t) AS upto FROM events',
  },
  {
    name: 'lag and lead with offsets and defaults, a window without PARTITION BY',
    sql: 'SELECT id, lag(t, 2, -1) OVER (ORDER BY id) AS before, lead(x) OVER (ORDER BY id) AS after, min(x) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING) AS m, count(x) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS rest FROM events',
  },
  {
    name: 'ntile, percent_rank, cume_dist, first_value, a DuckDB aggregate, unaliased',
    sql: 'SELECT id, ntile(3) OVER (PARTITION BY grp ORDER BY id), percent_rank() OVER (PARTITION BY grp ORDER BY t), cume_dist() OVER (PARTITION BY grp ORDER BY t), first_value(x) OVER (PARTITION BY grp ORDER BY id), stddev_samp(x) OVER (PARTITION BY grp) FROM events',
  },
  {
    name: 'a window over an aggregation, ordered by the window',
    sql: 'SELECT grp, sum(t) AS total, rank() OVER (ORDER BY sum(t) DESC) AS r FROM events GROUP BY grp ORDER BY r, grp',
    ordered: true,
  },
  {
    name: 'a window after WHERE, ORDER BY its alias',
    sql: 'SELECT id, row_number() OVER (PARTITION BY grp ORDER BY id DESC) AS rn FROM events WHERE x > 0 ORDER BY rn, id',
    ordered: true,
  },
  {
    name: 'windows inside expressions',
    sql: 'SELECT id, x - lag(x) OVER (PARTITION BY grp ORDER BY id) AS diff, 100.0 * x / sum(x) OVER (PARTITION BY grp) AS pct, row_number() OVER (ORDER BY id) + lag(x) OVER (PARTITION BY grp ORDER BY id) FROM events',
  },
  {
    name: 'SELECT * with a window inside an expression',
    sql: 'SELECT *, rank() OVER (PARTITION BY grp ORDER BY t) * 2 AS r2 FROM events',
  },
  {
    name: 'a window over aggregates inside an expression',
    sql: 'SELECT grp, sum(t) - lag(sum(t)) OVER (ORDER BY grp) AS delta, count(*) FROM events GROUP BY grp ORDER BY grp',
    ordered: true,
  },
  {
    name: 'inner join on a key and a range',
    sql: 'SELECT e.id, d.label FROM events e JOIN dims d ON e.grp = d.k AND e.t >= d.lo AND e.t < d.hi',
  },
  {
    name: 'left join on a key and a further condition',
    sql: 'SELECT e.id, d.label, d.hi FROM events e LEFT JOIN dims d ON e.grp = d.k AND e.t < d.hi',
  },
  {
    name: 'right join on a key and a further condition',
    sql: 'SELECT e.id, d.label FROM events e RIGHT JOIN dims d ON e.grp = d.k AND e.t < d.hi',
  },
  {
    name: 'full join on a key and a further condition',
    sql: 'SELECT e.id, d.label FROM events e FULL JOIN dims d ON d.k = e.grp AND e.t > d.lo',
  },
  {
    name: 'semi and anti joins with a further condition',
    sql: 'SELECT id FROM events e SEMI JOIN dims d ON e.grp = d.k AND e.t BETWEEN d.lo AND d.hi UNION ALL SELECT -id FROM events e ANTI JOIN dims d ON e.grp = d.k AND e.t BETWEEN d.lo AND d.hi',
  },
  {
    name: 'a join without an equality (a broadcast side)',
    sql: 'SELECT e.id, d.label FROM events e JOIN dims d ON e.t >= d.lo AND e.t < d.hi OR d.k IS NULL',
  },
  {
    name: 'left join without an equality, arithmetic and functions in the condition',
    sql: 'SELECT e.id, d.label FROM events e LEFT JOIN dims d ON coalesce(e.t, 0) + 1 <= d.hi AND NOT d.label LIKE $$%none%$$ AND d.lo IS NOT NULL',
  },
  {
    name: 'a condition join whose left side is a join, then a window over it',
    sql: 'SELECT e.id, d2.lab, row_number() OVER (PARTITION BY e.id ORDER BY d2.lab) AS rn FROM events e JOIN dims d ON e.grp = d.k LEFT JOIN (SELECT k AS k2, hi AS hi2, label AS lab FROM dims) d2 ON d.k = d2.k2 AND e.t < d2.hi2',
  },
];

/** Rows as value arrays by position (names of unaliased expressions may differ), numbers rounded. */
function values(rows: readonly Record<string, unknown>[], sorted: boolean): unknown[][] {
  const asObjects = rows.map((r) => Object.fromEntries(Object.values(r).map((v, i) => [String(i), v])));
  return normalised(asObjects, sorted).map((r) => Object.values(r));
}

const literal = (v: unknown) =>
  v === null ? 'NULL' : typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v);

/** The same SQL in one DuckDB over tables of the same rows, with Spark's default null order. */
async function reference(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    await connection.run("SET default_null_order = 'nulls_first_on_asc_last_on_desc'");
    const table = async (name: string, types: string, rows: Record<string, unknown>[]) => {
      await connection.run(`CREATE TABLE ${name} (${types})`);
      const tuples = rows.map((r) => `(${Object.values(r).map(literal).join(', ')})`);
      await connection.run(`INSERT INTO ${name} VALUES ${tuples.join(', ')}`);
    };
    await table('events', EVENTS_TYPES, EVENTS);
    await table('dims', DIMS_TYPES, DIMS);
    const reader = await connection.runAndReadAll(sql);
    const names = reader.columnNames();
    return rowsOf(reader).map((r) => Object.fromEntries(names.map((n, i) => [`${i}:${n}`, r[i]])));
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

const LAYOUTS = [
  { slices: 1, shuffle: 1 },
  { slices: 3, shuffle: 4 },
  { slices: 2, shuffle: 7 },
];

describe('ctx.sql windows and condition joins equal single-process DuckDB', () => {
  for (const layout of LAYOUTS) {
    it(`${layout.slices} input slice(s), ${layout.shuffle} shuffle partition(s)`, async () => {
      const job = defineJob((ctx) => {
        ctx.conf.set('spark.sql.shuffle.partitions', layout.shuffle);
        ctx.createDataFrame(EVENTS, EVENTS_SCHEMA, layout.slices).createOrReplaceTempView('events');
        ctx.createDataFrame(DIMS, DIMS_SCHEMA, layout.slices).createOrReplaceTempView('dims');
        return Object.fromEntries(CASES.map((c) => [c.name, ctx.sql(c.sql).collect()]));
      });
      const results = (await runDataFrameJob(job, undefined, { defaultParallelism: 2 })) as Record<
        string,
        Record<string, unknown>[]
      >;
      for (const c of CASES) {
        const expected = await reference(c.sql);
        expect(values(results[c.name]!, !c.ordered), c.name).toEqual(values(expected, !c.ordered));
      }
    }, 300_000);
  }

  it('a SQL condition join and window plan as the DataFrame calls: the same explain()', async () => {
    const job = defineJob((ctx) => {
      const events = ctx.createDataFrame(EVENTS, EVENTS_SCHEMA, 2);
      const dims = ctx.createDataFrame(DIMS, DIMS_SCHEMA, 2);
      events.createOrReplaceTempView('events');
      dims.createOrReplaceTempView('dims');
      const sql = ctx.sql(
        'SELECT e.id, d.label, row_number() OVER (PARTITION BY d.label ORDER BY e.id DESC) AS rn, sum(e.x) OVER (PARTITION BY d.label ORDER BY e.t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS s FROM events e LEFT JOIN dims d ON e.grp = d.k AND e.t < d.hi',
      );
      const w = Window.partitionBy('label');
      const df = events
        .alias('e')
        .join(
          dims.alias('d'),
          col('e.grp')
            .equalTo(col('d.k'))
            .and(col('e.t').lt(col('d.hi'))),
          'left',
        )
        .select(
          col('id'),
          col('label'),
          row_number()
            .over(w.orderBy(col('id').desc()))
            .as('rn'),
          sum('x').over(w.orderBy('t').rowsBetween(Window.unboundedPreceding, Window.currentRow)).as('s'),
        );
      return { sql: sql.explain(), df: df.explain() };
    });
    const r = (await runDataFrameJob(job, undefined, { defaultParallelism: 2 })) as {
      sql: string;
      df: string;
    };
    // Exchange numbers differ (both plans are in one job); the operators must not.
    const same = (plan: string) =>
      plan.replace(/shuffle \d+/g, 'shuffle #').replace(/__broadcast_\d+/g, '__broadcast');
    expect(same(r.sql)).toEqual(same(r.df));
    expect(r.sql).toMatch(/Join left, \(\(e\.grp = d\.k\) AND \(e\.t < d\.hi\)\)/);
    expect(r.sql).toMatch(/ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW/);
  }, 120_000);
});
