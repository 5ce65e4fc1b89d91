/**
 * Equi-joins of two DataFrames (a shuffled hash join: both sides exchanged on the join columns
 * into the same partitions) equal DuckDB's joins in one process, for every join type, with null
 * and duplicate keys, keys unmatched on either side, join keys of different integer types, and
 * several shuffle-partition counts; then a join feeding an aggregation and a sort.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindDataFrames } from '../../duckdb/binder.js';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { col, count, sum } from '../../engine/sql/column.js';
import { runDataFrameJob } from './local-dataframe-runner.js';
import { normalised, referenceRows, writeTable } from './tpch-data.js';

const ORDER_TYPES = { o_id: 'BIGINT', cust: 'INTEGER', amount: 'DOUBLE' };
const CUSTOMER_TYPES = { cust: 'BIGINT', name: 'VARCHAR', tier: 'VARCHAR' };

let dir: string;
let orders: string;
let customers: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-joins-'));
  const orderRows = Array.from({ length: 120 }, (_, i) => ({
    o_id: i,
    cust: i % 13 === 0 ? null : (i * 7) % 23, // 0…22, some never a customer, nulls
    amount: (i % 10) * 1.5,
  }));
  const customerRows = Array.from({ length: 30 }, (_, i) => ({
    cust: i % 25 === 24 ? null : 5 + (i % 25), // 5…28: some have no order; 5 and 6 twice; a null key
    name: `c${i}`,
    tier: ['gold', 'silver', null][i % 3],
  }));
  orders = await writeTable(dir, 'orders', orderRows, ORDER_TYPES, 'parquet', 3);
  customers = await writeTable(dir, 'customers', customerRows, CUSTOMER_TYPES, 'json', 2);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOWS = ['inner', 'left', 'right', 'full', 'semi', 'anti'] as const;

function referenceSql(how: (typeof HOWS)[number], o: string, c: string): string {
  const on = 'o.cust = c.cust';
  if (how === 'semi' || how === 'anti')
    return `SELECT o.* FROM ${o} o ${how.toUpperCase()} JOIN ${c} c ON ${on}`;
  const key = how === 'right' ? 'c.cust' : how === 'full' ? 'coalesce(o.cust, c.cust)' : 'o.cust';
  return `SELECT ${key} AS cust, o.o_id, o.amount, c.name, c.tier FROM ${o} o ${how.toUpperCase()} JOIN ${c} c ON ${on}`;
}

describe('joins equal single-process DuckDB', () => {
  for (const shuffle of [1, 4]) {
    it(`every join type on a column, ${shuffle} shuffle partition(s)`, async () => {
      const job = defineJob((ctx) => {
        ctx.conf.set('spark.sql.shuffle.partitions', shuffle);
        // Both files are small enough to broadcast by size (auto-broadcast.test.ts): shuffle them here.
        ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', -1);
        const o = ctx.read.parquet(orders);
        const c = ctx.read.json(customers, { schema: CUSTOMER_TYPES });
        const joins = Object.fromEntries(HOWS.map((how) => [how, o.join(c, 'cust', how).collect()]));
        return {
          ...joins,
          perTier: o
            .join(c, ['cust'])
            .groupBy('tier')
            .agg(sum('amount').as('revenue'), count('*').as('n'))
            .orderBy(col('revenue').desc(), 'tier')
            .collect(),
        };
      });
      const r = (await runDataFrameJob(job, undefined, {
        defaultParallelism: 3,
        splitsPerFile: 2,
      })) as Record<string, Record<string, unknown>[]>;
      const o = `read_parquet('${orders}')`;
      const c = `read_json('${customers}', format = 'newline_delimited', columns = {'cust': 'BIGINT', 'name': 'VARCHAR', 'tier': 'VARCHAR'})`;
      for (const how of HOWS) {
        const expected = await referenceRows(referenceSql(how, o, c));
        expect(normalised(r[how]!, true), how).toEqual(normalised(expected, true));
        expect(r[how]!.length, how).toBeGreaterThan(0);
      }
      const perTier = await referenceRows(
        `SELECT c.tier, sum(o.amount) AS revenue, count(*) AS n FROM ${o} o JOIN ${c} c ON o.cust = c.cust GROUP BY c.tier ORDER BY revenue DESC, tier`,
      );
      expect(normalised(r.perTier!)).toEqual(normalised(perTier));
    });
  }

  it('a join column missing on one side fails on the driver, naming the column and the call', async () => {
    const job = defineJob((ctx) => {
      ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', -1); // the shuffled join's check
      const a = ctx.createDataFrame([{ k: 1 }], 'k INT', 2);
      const b = ctx.createDataFrame([{ id: 1 }], 'id INT', 2);
      return a.join(b, 'k').count();
    });
    const graph = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    await expect(bindDataFrames(graph, async () => undefined)).rejects.toThrow(
      /join at joins\.test\.ts:\d+: .*"k" not found.*over columns: id/s,
    );
  });
});
