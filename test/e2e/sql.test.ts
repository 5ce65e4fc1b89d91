import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { E2EFabric } from '../helpers/e2e.js';
import { closeTpchE2E, ordersCsv, startTpchE2E } from '../helpers/tpch-e2e.js';
import { normalised, referenceRows } from '../sql/tpch-data.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
let dir: string;
let lineitem: string;
let orders: string;

beforeAll(async () => {
  ({ e2e, dir, lineitem, orders } = await startTpchE2E('sql', 0.3, 11));
});

afterAll(async () => {
  await closeTpchE2E({ e2e, dir });
});

describe('ctx.sql on executors', () => {
  it('SQL queries over Parquet and CSV temp views equal single-process DuckDB; a Dataset stage of the same job runs', async () => {
    e2e.events.clear();
    const r = (await e2e.driver.run(path.join(JOBS, 'dataframe-sql.ts'), {
      lineitem,
      orders,
      shufflePartitions: 3,
    })) as Record<string, unknown>;
    const views = `WITH lineitem AS (SELECT * FROM read_parquet('${lineitem}')),
      orders AS (SELECT * FROM ${ordersCsv(orders)})`;
    const flags = await referenceRows(`${views}
      SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, avg(l_discount) AS avg_disc, count(*) AS n
      FROM lineitem WHERE l_shipdate <= DATE '1998-09-02' AND l_shipmode IN ('AIR', 'MAIL', 'SHIP')
      GROUP BY l_returnflag, l_linestatus HAVING count(*) > 10 ORDER BY l_returnflag, l_linestatus`);
    expect(flags.length).toBeGreaterThan(0);
    expect(normalised(r.flags as Record<string, unknown>[])).toEqual(normalised(flags));
    const shipping = await referenceRows(`${views}
      SELECT l.l_orderkey, o.o_orderdate, sum(l.l_extendedprice * (1 - l.l_discount)) AS revenue
      FROM orders o JOIN lineitem l ON o.o_orderkey = l.l_orderkey
      WHERE o.o_orderdate < DATE '1995-03-15' AND l.l_shipdate > DATE '1995-03-15'
      GROUP BY l.l_orderkey, o.o_orderdate ORDER BY revenue DESC, l_orderkey LIMIT 10`);
    expect(shipping).toHaveLength(10);
    expect(normalised(r.shipping as Record<string, unknown>[])).toEqual(normalised(shipping));
    const priorities = await referenceRows(`${views}
      SELECT o_orderpriority, count(*) AS count FROM orders WHERE o_totalprice > 100000
      GROUP BY o_orderpriority ORDER BY o_orderpriority`);
    expect(r.priorities).toEqual(priorities);
    expect(r.doubled).toEqual([1, 2, 3, 4].map((x) => x * 2));
    // The sorts' sampling jobs are hidden; the four actions are four jobs, none failed.
    const jobs = e2e.events.of('job-start');
    expect(jobs.filter((j) => !j.hidden)).toHaveLength(4);
    const ends = e2e.events.of('task-end');
    expect(ends.length).toBeGreaterThan(0);
    expect(ends.filter((t) => t.status === 'failed')).toHaveLength(0);
  }, 600_000);

  it('a SQL error fails the run on the driver, naming the call site, before any job', async () => {
    e2e.events.clear();
    await expect(e2e.driver.run(path.join(JOBS, 'dataframe-sql-bad.ts'), { lineitem })).rejects.toThrow(
      /sql at dataframe-sql-bad\.ts:\d+: table or view "lineitems" not found at line 1, column 15.*temp views: lineitem/s,
    );
    expect(e2e.events.of('job-start')).toHaveLength(0);
  });
});
