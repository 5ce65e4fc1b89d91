import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { E2EFabric } from '../helpers/e2e.js';
import { closeTpchE2E, ordersCsv, startTpchE2E } from '../helpers/tpch-e2e.js';
import { normalised, referenceRows, writeTable } from '../sql/tpch-data.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
let dir: string;
let lineitem: string;
let orders: string;
let flags: string;

beforeAll(async () => {
  ({ e2e, dir, lineitem, orders } = await startTpchE2E('df-windows', 0.1, 11));
  flags = await writeTable(
    dir,
    'flags',
    [
      { l_returnflag: 'A', label: 'accepted' },
      { l_returnflag: 'R', label: 'returned' },
    ],
    { l_returnflag: 'VARCHAR', label: 'VARCHAR' },
    'parquet',
  );
});

afterAll(async () => {
  await closeTpchE2E({ e2e, dir });
});

describe('windows and joins on executors', () => {
  it('a window, a join on a condition and a broadcast join equal single-process DuckDB', async () => {
    const r = (await e2e.driver.run(path.join(JOBS, 'dataframe-windows-joins.ts'), {
      lineitem,
      orders,
      shufflePartitions: 3,
    })) as Record<string, unknown>;
    const li = `read_parquet('${lineitem}')`;
    const od = ordersCsv(orders);
    const over =
      'PARTITION BY l_orderkey ORDER BY l_extendedprice DESC NULLS LAST, l_linenumber ASC NULLS FIRST';
    const ranked = await referenceRows(
      `SELECT l_orderkey, l_linenumber, row_number() OVER (${over}) AS rn, sum(l_quantity) OVER (${over} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_qty FROM ${li}`,
    );
    expect(ranked.length).toBeGreaterThan(100);
    expect(normalised(r.ranked as Record<string, unknown>[], true)).toEqual(normalised(ranked, true));
    const late = await referenceRows(
      `SELECT o.o_orderstatus, count(*) AS count FROM ${od} o LEFT JOIN ${li} l ON o.o_orderkey = l.l_orderkey AND l.l_shipdate > o.o_orderdate GROUP BY 1`,
    );
    expect(normalised(r.late as Record<string, unknown>[], true)).toEqual(normalised(late, true));
    const labelled = await referenceRows(
      `SELECT f.label, sum(l.l_quantity) AS qty FROM ${li} l LEFT JOIN (VALUES ('A', 'accepted'), ('R', 'returned')) f(l_returnflag, label) ON l.l_returnflag = f.l_returnflag GROUP BY 1`,
    );
    expect(normalised(r.labelled as Record<string, unknown>[], true)).toEqual(normalised(labelled, true));
    // The line items are not exchanged for the broadcast join: the aggregation's is the only hash exchange.
    expect(r.labelledPlan).toMatch(/BroadcastExchange/);
    expect((r.labelledPlan as string).match(/hash exchange/g)).toHaveLength(1);
    expect(r.rankedPlan).toMatch(/hash exchange into 3 partitions on \[l_orderkey\]/);
  }, 300_000); // a bound for a hang under a loaded machine (seven jobs), not a timing

  it('a small Parquet dimension is broadcast by its listed size: the fact table is not exchanged', async () => {
    const r = (await e2e.driver.run(path.join(JOBS, 'dataframe-auto-broadcast.ts'), {
      lineitem,
      flags,
      shufflePartitions: 3,
    })) as { labelled: Record<string, unknown>[]; plan: string };
    const labelled = await referenceRows(
      `SELECT f.label, sum(l.l_quantity) AS qty FROM read_parquet('${lineitem}') l LEFT JOIN read_parquet('${flags}') f ON l.l_returnflag = f.l_returnflag GROUP BY 1`,
    );
    expect(labelled.length).toBe(3); // accepted, returned, and null for the flag the table lacks
    expect(normalised(r.labelled, true)).toEqual(normalised(labelled, true));
    // The driver's estimate of a Parquet scan: the column chunks of the row groups it reads.
    const [chunks] = await referenceRows(
      `SELECT sum(total_compressed_size)::BIGINT AS bytes FROM parquet_metadata('${flags}')`,
    );
    const flagBytes = Number(chunks!.bytes);
    expect(flagBytes).toBeGreaterThan(0);
    expect(r.plan).toContain(
      `BroadcastExchange (one partition, read whole by every task of the join stage; estimated ${flagBytes} bytes, at most spark.sql.autoBroadcastJoinThreshold)`,
    );
    // The aggregation's is the only hash exchange: the line items reach the join unexchanged.
    expect(r.plan.match(/hash exchange/g)).toHaveLength(1);
  }, 300_000);
});
