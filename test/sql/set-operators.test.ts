/**
 * distinct, dropDuplicates, union, unionByName, repartition and the first and collect_list
 * aggregates, run distributed (stages, exchanges, DuckDB per task, in one process), equal DuckDB
 * running the same SQL in one process over the same files — across file, split and
 * shuffle-partition counts, with null keys and values and with empty partitions; their planning
 * (which exchanges, how many partitions) and the driver's errors naming the call.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindDataFrames } from '../../duckdb/binder.js';
import type { JobContext } from '../../engine/dataset/context.js';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph, type JobGraph } from '../../engine/plan/graph.js';
import { isSamplingRequest, type JobPlan, planJob } from '../../engine/plan/stages.js';
import { col, collect_list, count, expr, first, sum } from '../../engine/sql/column.js';
import type { DataFrame } from '../../engine/sql/dataframe.js';
import { exchangeSpecOf } from '../../engine/sql/planner.js';
import { runDataFrameJob } from './local-dataframe-runner.js';
import { read, SALES_TYPES, SCHEMA, salesRows, scanSql } from './sales-table.js';
import { normalised, referenceRows, type TableFormat, writeTable } from './tpch-data.js';

let dir: string;
const globs = new Map<string, string>();

/** Each format with a layout: files, line splits per text file (6 over few lines makes empty ones), shuffle partitions. */
const COMBINATIONS: [TableFormat, { files: number; splits: number; shuffle: number }][] = [
  ['parquet', { files: 1, splits: 1, shuffle: 1 }],
  ['parquet', { files: 3, splits: 1, shuffle: 4 }],
  ['csv', { files: 2, splits: 6, shuffle: 7 }],
  ['json', { files: 3, splits: 2, shuffle: 3 }],
];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-df-set-ops-'));
  const rows = salesRows(240);
  for (const [format, { files }] of COMBINATIONS) {
    const key = `${format}/${files}`;
    if (globs.has(key)) continue;
    globs.set(
      key,
      await writeTable(path.join(dir, `${format}-${files}`), 'sales', rows, SALES_TYPES, format, files),
    );
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Lists inside rows sorted, so collect_list (no set order, as in Spark) compares as a multiset. */
function listsSorted(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const key = (v: unknown) => JSON.stringify(v);
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [
        k,
        Array.isArray(v) ? [...v].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) : v,
      ]),
    ),
  );
}

/** An operator case: the DataFrame side, the SQL side (over `{t}`), and whether row order is part of the answer. */
interface Case {
  name: string;
  df: (sales: DataFrame) => DataFrame;
  sql: string;
  ordered?: boolean;
}

const UNPRICED = col('id').mod(11).equalTo(0).as('unpriced');

const CASES: Case[] = [
  {
    name: 'distinct over two columns with null keys',
    df: (s) => s.select('region', 'qty').distinct(),
    sql: 'SELECT DISTINCT region, qty FROM {t}',
  },
  {
    name: 'distinct of a union with itself is the distinct rows',
    df: (s) => s.union(s).distinct(),
    sql: 'SELECT DISTINCT * FROM {t}',
  },
  {
    name: 'dropDuplicates on one column keeps one row per value, null included',
    df: (s) => s.dropDuplicates('region').select('region'),
    sql: 'SELECT DISTINCT region FROM {t}',
  },
  {
    name: 'dropDuplicates on two columns keeps whole rows of the input',
    df: (s) =>
      s
        .dropDuplicates(['region', 'qty'])
        .join(s.select('id', col('amount').as('a2')), 'id')
        .select('region', 'qty', expr('amount IS NOT DISTINCT FROM a2 AS same')),
    sql: 'SELECT DISTINCT region, qty, TRUE AS same FROM {t}',
  },
  {
    name: 'dropDuplicates without columns is distinct',
    df: (s) => s.select('qty').dropDuplicates(),
    sql: 'SELECT DISTINCT qty FROM {t}',
  },
  {
    name: 'union keeps duplicates',
    df: (s) => s.union(s.where(col('qty').gt(4))),
    sql: 'SELECT * FROM {t} UNION ALL SELECT * FROM {t} WHERE qty > 4',
  },
  {
    name: 'union matches columns by position, with the left names and a widened type',
    df: (s) => s.select('id', 'region').union(s.select('qty', 'region')),
    sql: 'SELECT id, region FROM {t} UNION ALL SELECT qty, region FROM {t}',
  },
  {
    name: 'unionByName matches columns by name',
    df: (s) => s.select('id', 'region').unionByName(s.select('region', 'id').where('id < 50')),
    sql: 'SELECT id, region FROM {t} UNION ALL SELECT id, region FROM {t} WHERE id < 50',
  },
  {
    name: 'unionByName with allowMissingColumns fills nulls',
    df: (s) => s.select('id', 'region').unionByName(s.select('qty', 'id'), true),
    sql: 'SELECT id, region, NULL::INTEGER AS qty FROM {t} UNION ALL SELECT id, NULL::VARCHAR, qty FROM {t}',
  },
  {
    name: 'union then groupBy',
    df: (s) => s.union(s).groupBy('region').agg(count('*').as('n')),
    sql: 'SELECT region, count(*) AS n FROM (SELECT * FROM {t} UNION ALL SELECT * FROM {t}) GROUP BY region',
  },
  {
    name: 'repartition round-robin keeps every row',
    df: (s) => s.repartition(5),
    sql: 'SELECT * FROM {t}',
  },
  {
    name: 'repartition by a column with nulls, then aggregate',
    df: (s) => s.repartition(3, 'region').groupBy('region').agg(sum('qty').as('q')),
    sql: 'SELECT region, CAST(sum(qty) AS BIGINT) AS q FROM {t} GROUP BY region',
  },
  {
    name: 'repartition into one partition, then orderBy',
    df: (s) => s.repartition(1).orderBy(col('amount').desc(), 'id'),
    sql: 'SELECT * FROM {t} ORDER BY amount DESC NULLS LAST, id',
    ordered: true,
  },
  {
    name: 'coalesce keeps every row',
    df: (s) => s.coalesce(2),
    sql: 'SELECT * FROM {t}',
  },
  {
    name: 'coalesce of an aggregation',
    df: (s) => s.groupBy('region').agg(count('*').as('n')).coalesce(2),
    sql: 'SELECT region, count(*) AS n FROM {t} GROUP BY region',
  },
  {
    name: 'orderBy then coalesce keeps the order',
    df: (s) => s.orderBy(col('qty').desc(), 'id').coalesce(2),
    sql: 'SELECT * FROM {t} ORDER BY qty DESC, id',
    ordered: true,
  },
  {
    name: 'coalesce(1) then orderBy sorts in one task',
    df: (s) => s.coalesce(1).orderBy('id'),
    sql: 'SELECT * FROM {t} ORDER BY id',
    ordered: true,
  },
  {
    name: 'first of a value constant in its group',
    df: (s) => s.groupBy('qty').agg(first(col('qty').multiply(2)).as('f'), count('*').as('n')),
    sql: 'SELECT qty, qty * 2 AS f, count(*) AS n FROM {t} GROUP BY qty',
  },
  {
    name: 'first with ignoreNulls skips nulls; a group of nulls gives null',
    df: (s) =>
      s.groupBy(UNPRICED).agg(first(expr('CASE WHEN amount IS NULL THEN NULL ELSE 1 END'), true).as('f')),
    sql: 'SELECT id % 11 = 0 AS unpriced, max(CASE WHEN amount IS NULL THEN NULL ELSE 1 END) AS f FROM {t} GROUP BY 1',
  },
  {
    name: 'collect_list per group with a null key',
    df: (s) => s.groupBy('region').agg(collect_list('qty')),
    sql: 'SELECT region, list(qty) AS "collect_list(qty)" FROM {t} GROUP BY region',
  },
  {
    name: 'collect_list and first of no rows',
    df: (s) => s.where(col('id').lt(0)).agg(collect_list('qty').as('l'), first('qty').as('f')),
    sql: 'SELECT [] AS l, NULL AS f',
  },
];

describe('set operators, repartition, first and collect_list equal single-process DuckDB', () => {
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
        const expected = await referenceRows(c.sql.replaceAll('{t}', scanSql(format, glob)));
        expect(normalised(listsSorted(results[c.name]!), !c.ordered), c.name).toEqual(
          normalised(listsSorted(expected), !c.ordered),
        );
      }
    });
  }

  it('collect_list skips nulls and gives an empty list for a group of nulls (plain-JS reference)', async () => {
    const rows = salesRows(60);
    const job = defineJob((ctx) =>
      ctx
        .createDataFrame(rows, SCHEMA, 4)
        .groupBy(UNPRICED)
        .agg(collect_list('amount').as('amounts'))
        .collect(),
    );
    const result = (await runDataFrameJob(job, undefined, { defaultParallelism: 3 })) as Record<
      string,
      unknown
    >[];
    const expected = [true, false].map((unpriced) => ({
      unpriced,
      amounts: rows
        .filter((r) => ((r.id as number) % 11 === 0) === unpriced && r.amount !== null)
        .map((r) => r.amount),
    }));
    expect(normalised(listsSorted(result), true)).toEqual(normalised(listsSorted(expected), true));
  });

  it('every operator over createDataFrame rows with empty partitions and more partitions than rows', async () => {
    const rows = salesRows(5);
    const job = defineJob((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 3);
      const df = ctx.createDataFrame(rows, SCHEMA, 8);
      return {
        distinct: df.union(df).distinct().count(),
        regions: df.dropDuplicates('region').count(),
        union: df.union(df.where('id > 100')).count(),
        roundRobin: df.repartition(7).count(),
        coalesced: df.coalesce(3).count(),
        hashed: df.repartition(6, col('qty')).select('id').orderBy('id').collect(),
        lists: df.agg(collect_list('id').as('ids'), first('region', true).as('r')).collect(),
      };
    });
    const r = (await runDataFrameJob(job, undefined, { defaultParallelism: 4 })) as Record<string, unknown>;
    expect(r.distinct).toBe(5);
    expect(r.regions).toBe(new Set(rows.map((x) => x.region)).size);
    expect(r.union).toBe(5);
    expect(r.roundRobin).toBe(5);
    expect(r.coalesced).toBe(5);
    expect((r.hashed as { id: number }[]).map((x) => x.id)).toEqual([0, 1, 2, 3, 4]);
    const [lists] = r.lists as { ids: number[]; r: string }[];
    // Longs inside lists come back as strings (values.ts keeps every nested long exact).
    expect(lists!.ids.map(Number).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(rows.map((x) => x.region)).toContain(lists!.r);
    expect(lists!.r).not.toBeNull();
  });
});

function graphOf(build: (ctx: JobContext) => unknown, parallelism = 4): JobGraph {
  return buildJobGraph(defineJob(build as never), undefined as never, { defaultParallelism: parallelism });
}

function plan(graph: JobGraph): JobPlan {
  const planned = planJob(graph, 'result', {});
  if (isSamplingRequest(planned)) throw new Error('needs sampling');
  return planned;
}

const small = (n: number) => salesRows(n);
const noFiles = async () => undefined;

describe('planning of set operators and repartition', () => {
  it('distinct drops duplicates on both sides of a hash exchange on every column', () => {
    const g = graphOf((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 5);
      return ctx.createDataFrame(small(10), SCHEMA, 3).distinct().collect();
    });
    expect(plan(g).stages.map((s) => [s.kind, s.numPartitions])).toEqual([
      ['shuffle-map', 3],
      ['result', 5],
    ]);
    expect(exchangeSpecOf(g.nodes.find((n) => exchangeSpecOf(n))!)).toEqual({ mode: 'hashAll' });
  });

  it('repartition(n) is a round-robin exchange into n partitions, repartition(n, cols) a hash exchange', () => {
    const g = graphOf((ctx) => ({
      result: ctx.createDataFrame(small(10), SCHEMA, 3).repartition(6).collect(),
      hashed: ctx.createDataFrame(small(10), SCHEMA, 3).repartition(2, 'region').collect(),
    }));
    expect(plan(g).stages.map((s) => [s.kind, s.numPartitions])).toEqual([
      ['shuffle-map', 3],
      ['result', 6],
    ]);
    const specs = g.nodes.flatMap((n) => (exchangeSpecOf(n) ? [exchangeSpecOf(n)] : []));
    expect(specs).toEqual([{ mode: 'roundRobin' }, { mode: 'hash', keys: [{ k: 'col', name: 'region' }] }]);
  });

  it('union reads both sides, each dealt round-robin into the shuffle partitions', () => {
    const g = graphOf((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 4);
      const df = ctx.createDataFrame(small(10), SCHEMA, 3);
      return df.union(df.select('*')).collect();
    });
    expect(plan(g).stages.map((s) => [s.kind, s.numPartitions])).toEqual([
      ['shuffle-map', 3],
      ['shuffle-map', 3],
      ['result', 4],
    ]);
  });

  it('coalesce is narrow: min(n, input partitions) tasks in the same stage', () => {
    const g = graphOf((ctx) => {
      const df = ctx.createDataFrame(small(10), SCHEMA, 5);
      return { result: df.coalesce(2).collect(), more: df.coalesce(9).collect() };
    });
    const p = plan(g);
    expect(p.stages.map((s) => [s.kind, s.numPartitions])).toEqual([['result', 2]]);
    const more = planJob(g, 'more', {});
    if (isSamplingRequest(more)) throw new Error('needs sampling');
    expect(more.stages.map((s) => s.numPartitions)).toEqual([5]);
  });

  it('coalesce into no partitions fails where it is called', () => {
    expect(() => graphOf((ctx) => ctx.createDataFrame(small(3), SCHEMA, 1).coalesce(0).collect())).toThrow(
      /coalesce: the number of partitions must be a positive integer, got 0/,
    );
  });

  it('explain names the new exchanges', async () => {
    const job = defineJob((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 2);
      const df = ctx.createDataFrame(small(10), SCHEMA, 3);
      return { rr: df.repartition(4).explain(), d: df.distinct().explain() };
    });
    const r = (await runDataFrameJob(job, undefined)) as Record<string, string>;
    expect(r.rr).toMatch(/Repartition 4, true/);
    expect(r.rr).toMatch(/round-robin exchange into 4 partitions/);
    expect(r.d).toMatch(/hash exchange into 2 partitions on every column/);
  });

  it('repartition into no partitions fails where it is called', () => {
    expect(() => graphOf((ctx) => ctx.createDataFrame(small(3), SCHEMA, 1).repartition(0).collect())).toThrow(
      /repartition: the number of partitions must be a positive integer, got 0/,
    );
  });

  it('dropDuplicates on a missing column fails on the driver naming the call and the columns', async () => {
    const g = graphOf((ctx) => ctx.createDataFrame(small(3), SCHEMA, 2).dropDuplicates('nope').count());
    await expect(bindDataFrames(g, noFiles)).rejects.toThrow(
      /dropDuplicates at set-operators\.test\.ts:\d+: cannot resolve column name "nope" among \(id, region, amount, qty, day\)/,
    );
  });

  it('a union of different column counts fails on the driver naming the call', async () => {
    const g = graphOf((ctx) => {
      const df = ctx.createDataFrame(small(3), SCHEMA, 2);
      return df.union(df.select('id')).count();
    });
    await expect(bindDataFrames(g, noFiles)).rejects.toThrow(
      /union at set-operators\.test\.ts:\d+: union needs the same number of columns on both sides .*the left has 5 .*the right 1 \(id\)/,
    );
  });

  it('unionByName with a column on one side only fails unless allowMissingColumns', async () => {
    const g = graphOf((ctx) => {
      const df = ctx.createDataFrame(small(3), SCHEMA, 2);
      return df.select('id', 'region').unionByName(df.select('id', 'qty')).count();
    });
    await expect(bindDataFrames(g, noFiles)).rejects.toThrow(
      /unionByName at set-operators\.test\.ts:\d+: .*region only on the left; qty only on the right/,
    );
  });

  it('repartition and first over a missing column fail naming the call', async () => {
    const g = graphOf((ctx) => ({
      result: ctx.createDataFrame(small(3), SCHEMA, 2).repartition(3, 'nope').count(),
    }));
    await expect(bindDataFrames(g, noFiles)).rejects.toThrow(
      /repartition at set-operators\.test\.ts:\d+: .*"nope" not found/s,
    );
    const h = graphOf((ctx) =>
      ctx.createDataFrame(small(3), SCHEMA, 2).groupBy('qty').agg(first('nope')).count(),
    );
    await expect(bindDataFrames(h, noFiles)).rejects.toThrow(
      /groupBy at set-operators\.test\.ts:\d+: .*"nope" not found/s,
    );
  });
});
