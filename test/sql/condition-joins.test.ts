/**
 * Joins on a condition and broadcast joins equal DuckDB's joins in one process: every join type,
 * an equality plus a residual condition, null keys, keys unmatched on either side, empty
 * partitions, several shuffle-partition counts; shuffled (equality keys as exchange keys) and
 * broadcast (hinted or below spark.sql.autoBroadcastJoinThreshold), where explain shows a
 * BroadcastExchange and no exchange of the big side.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindDataFrames } from '../../duckdb/binder.js';
import type { Action } from '../../engine/dataset/actions.js';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { col, sum } from '../../engine/sql/column.js';
import { broadcast } from '../../engine/sql/dataframe.js';
import { runDataFrameJob } from './local-dataframe-runner.js';
import { normalised, referenceRows, writeTable } from './tpch-data.js';

const ORDER_TYPES = { o_id: 'BIGINT', cust: 'INTEGER', amount: 'DOUBLE' };
const CUSTOMER_TYPES = { cust: 'BIGINT', name: 'VARCHAR', tier: 'VARCHAR', lim: 'DOUBLE' };

let dir: string;
let orders: string;
let customerRows: Record<string, unknown>[];
const o = () => `read_parquet('${orders}')`;
const c = () =>
  `(SELECT * FROM (VALUES ${customerRows
    .map(
      (r) =>
        `(${r.cust ?? 'NULL'}::BIGINT, '${r.name}', ${r.tier === null ? 'NULL' : `'${r.tier}'`}, ${r.lim}::DOUBLE)`,
    )
    .join(', ')}) t(cust, name, tier, lim))`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-cond-joins-'));
  const orderRows = Array.from({ length: 150 }, (_, i) => ({
    o_id: i,
    cust: i % 13 === 0 ? null : (i * 7) % 23,
    amount: (i % 10) * 1.5,
  }));
  customerRows = Array.from({ length: 12 }, (_, i) => ({
    cust: i === 11 ? null : 5 + (i % 10), // 5…14: 5 and 6 twice, a null key
    name: `c${i}`,
    tier: ['gold', 'silver', null][i % 3],
    lim: (i % 4) * 4,
  }));
  orders = await writeTable(dir, 'orders', orderRows, ORDER_TYPES, 'parquet', 3);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOWS = ['inner', 'left', 'right', 'full', 'semi', 'anti'] as const;
type How = (typeof HOWS)[number];

function referenceSql(how: How, on: string): string {
  if (how === 'semi' || how === 'anti')
    return `SELECT o.* FROM ${o()} o ${how.toUpperCase()} JOIN ${c()} c ON ${on}`;
  return `SELECT o.o_id, o.cust, o.amount, c.cust AS cust_right, c.name, c.tier, c.lim FROM ${o()} o ${how.toUpperCase()} JOIN ${c()} c ON ${on}`;
}

async function expectAll(r: Record<string, Record<string, unknown>[]>, on: string, hows: readonly How[]) {
  for (const how of hows) {
    const expected = await referenceRows(referenceSql(how, on));
    expect(normalised(r[how]!, true), how).toEqual(normalised(expected, true));
    expect(r[how]!.length, how).toBeGreaterThan(0);
  }
}

describe('joins on a condition equal single-process DuckDB', () => {
  for (const shuffle of [1, 4]) {
    it(`shuffled: every join type on an equality and a residual, ${shuffle} shuffle partition(s)`, async () => {
      const job = defineJob((ctx) => {
        ctx.conf.set('spark.sql.shuffle.partitions', shuffle);
        ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', -1);
        const left = ctx.read.parquet(orders);
        const right = ctx.createDataFrame(customerRows, CUSTOMER_TYPES, 3);
        const on = left
          .col('cust')
          .equalTo(right.col('cust'))
          .and(left.col('amount').lt(right.col('lim')));
        return Object.fromEntries(HOWS.map((how) => [how, left.join(right, on, how).collect()]));
      });
      const r = (await runDataFrameJob(job, undefined, { defaultParallelism: 3 })) as Record<
        string,
        Record<string, unknown>[]
      >;
      await expectAll(r, 'o.cust = c.cust AND o.amount < c.lim', HOWS);
    });
  }

  it('broadcast (hinted): the right side for inner/left/semi/anti, the left for right; full falls back to a shuffle', async () => {
    const job = defineJob((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 3);
      ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', -1); // only the hint decides
      // 8 slices of 12 rows: some broadcast map tasks write nothing.
      const small = ctx.createDataFrame(customerRows, CUSTOMER_TYPES, 8).alias('c');
      const big = ctx.read.parquet(orders).alias('o');
      const on = col('o.cust')
        .equalTo(col('c.cust'))
        .and(col('o.amount').lt(col('c.lim')));
      const out: Record<string, Action<unknown>> = {};
      for (const how of ['inner', 'left', 'semi', 'anti', 'full'] as const)
        out[how] = big.join(broadcast(small), on, how).collect();
      // Broadcasting the left side of a right join: the orders are the build side here.
      out.right = broadcast(big).join(small, on, 'right').collect();
      out.plan = big.join(broadcast(small), on, 'left').explain();
      out.rightPlan = broadcast(big).join(small, on, 'right').explain();
      out.fullPlan = big.join(broadcast(small), on, 'full').explain();
      return out;
    });
    const r = (await runDataFrameJob(job, undefined, { defaultParallelism: 3, splitsPerFile: 2 })) as Record<
      string,
      unknown
    >;
    const on = 'o.cust = c.cust AND o.amount < c.lim';
    for (const how of HOWS) {
      // With aliases on both sides, the column both have is named by each alias.
      const rows = (r[how] as Record<string, unknown>[]).map((row) => {
        if (!('o.cust' in row)) return row;
        const { o_id, amount, name, tier, lim } = row;
        return { o_id, cust: row['o.cust'], amount, cust_right: row['c.cust'], name, tier, lim };
      });
      const expected = await referenceRows(referenceSql(how, on));
      expect(normalised(rows, true), how).toEqual(normalised(expected, true));
    }
    const plan = r.plan as string;
    expect(plan).toMatch(/BroadcastExchange/);
    expect(plan).not.toMatch(/hash exchange/);
    expect(plan).toMatch(/broadcast: shuffle \d+ as __broadcast_\d+/);
    expect(r.rightPlan as string).toMatch(/BroadcastExchange/);
    expect(r.rightPlan as string).not.toMatch(/hash exchange/);
    // Spark cannot build either side of a full outer join: both sides are shuffled.
    expect(r.fullPlan as string).not.toMatch(/BroadcastExchange/);
    expect((r.fullPlan as string).match(/hash exchange into 3 partitions on \[cust\]/g)).toHaveLength(2);
  });

  it('automatic broadcast below the threshold; -1 shuffles both sides; explain says which', async () => {
    const job = defineJob((ctx, p: { threshold: number }) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 4);
      ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', p.threshold);
      const big = ctx.read.parquet(orders);
      const small = ctx.createDataFrame(customerRows, CUSTOMER_TYPES, 2);
      const joined = big.join(small, 'cust', 'left').groupBy('tier').agg(sum('amount').as('revenue'));
      return { rows: joined.collect(), plan: joined.explain() };
    });
    const expected = await referenceRows(
      `SELECT c.tier, sum(o.amount) AS revenue FROM ${o()} o LEFT JOIN ${c()} c ON o.cust = c.cust GROUP BY c.tier`,
    );
    const auto = (await runDataFrameJob(job, { threshold: 10 * 1024 * 1024 })) as {
      rows: Record<string, unknown>[];
      plan: string;
    };
    const off = (await runDataFrameJob(job, { threshold: -1 })) as {
      rows: Record<string, unknown>[];
      plan: string;
    };
    // 12 rows of (8 + 20 + 20 + 8 + 8 row overhead) bytes: far below 10 MB, above 100 bytes.
    const tiny = (await runDataFrameJob(job, { threshold: 100 })) as {
      rows: Record<string, unknown>[];
      plan: string;
    };
    for (const run of [auto, off, tiny])
      expect(normalised(run.rows, true)).toEqual(normalised(expected, true));
    expect(auto.plan).toMatch(/BroadcastExchange/);
    // Only the aggregation's exchange is a hash exchange: the orders are not exchanged for the join.
    expect(auto.plan.match(/hash exchange/g)).toHaveLength(1);
    expect(auto.plan).toMatch(/hash exchange into 4 partitions on \[tier\]/);
    for (const plan of [off.plan, tiny.plan]) {
      expect(plan).not.toMatch(/BroadcastExchange/);
      expect(plan.match(/hash exchange into 4 partitions on \[cust\]/g)).toHaveLength(2);
    }
  });

  it('a condition without an equality runs broadcast, and is refused when both sides would be shuffled', async () => {
    const job = defineJob((ctx, p: { hint: boolean }) => {
      ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', -1);
      const big = ctx.read.parquet(orders);
      const small = ctx.createDataFrame(customerRows, CUSTOMER_TYPES, 2);
      const side = p.hint ? broadcast(small) : small;
      return big
        .join(side, big.col('amount').gt(side.col('lim')).and(side.col('tier').equalTo('gold')))
        .collect();
    });
    const rows = (await runDataFrameJob(job, { hint: true })) as Record<string, unknown>[];
    const expected = await referenceRows(
      `SELECT o.o_id, o.cust, o.amount, c.cust AS cust_right, c.name, c.tier, c.lim FROM ${o()} o JOIN ${c()} c ON o.amount > c.lim AND c.tier = 'gold'`,
    );
    expect(normalised(rows, true)).toEqual(normalised(expected, true));
    const graph = buildJobGraph(job, { hint: false }, { defaultParallelism: 2 });
    await expect(bindDataFrames(graph, async () => path.join(dir, 'orders-0.parquet'))).rejects.toThrow(
      /join at condition-joins\.test\.ts:\d+: the join condition has no equality between a column of each side.*broadcast\(df\)/,
    );
  });

  it('a self-join needs aliases: an unqualified column on both sides is refused as ambiguous', async () => {
    const job = defineJob((ctx) => {
      const a = ctx.createDataFrame(customerRows, CUSTOMER_TYPES, 2);
      return a.join(a.select('cust', 'name'), col('cust').equalTo(col('cust'))).count();
    });
    const graph = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    await expect(bindDataFrames(graph, async () => undefined)).rejects.toThrow(
      /join at condition-joins\.test\.ts:\d+: column cust of the join condition is ambiguous: both sides have it/,
    );
    const aliased = defineJob((ctx) => {
      const a = ctx.createDataFrame(customerRows, CUSTOMER_TYPES, 2);
      return a
        .alias('x')
        .join(
          a.alias('y'),
          col('x.cust')
            .equalTo(col('y.cust'))
            .and(col('x.name').notEqual(col('y.name'))),
        )
        .select('x.name', 'y.name')
        .collect();
    });
    const rows = (await runDataFrameJob(aliased, undefined)) as Record<string, unknown>[];
    const expected = await referenceRows(
      `SELECT x.name AS "x.name", y.name AS "y.name" FROM ${c()} x JOIN ${c()} y ON x.cust = y.cust AND x.name <> y.name`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(normalised(rows, true)).toEqual(normalised(expected, true));
  });
});
