/**
 * Window functions (a hash exchange on the partition keys, then the window in each task) equal
 * single-process DuckDB over the same files: ranking with ties, lag/lead, running and framed
 * aggregates, null partition keys and order values, empty partitions, several shuffle-partition
 * counts; a window without partitionBy moves every row to one partition, and explain says so.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { avg, col, count, max, min, sum } from '../../engine/sql/column.js';
import { dense_rank, lag, lead, rank, row_number, Window } from '../../engine/sql/window.js';
import { runDataFrameJob } from './local-dataframe-runner.js';
import { normalised, referenceRows, writeTable } from './tpch-data.js';

const TYPES = { id: 'BIGINT', grp: 'VARCHAR', t: 'INTEGER', x: 'INTEGER' };

let dir: string;
let events: string;
let scan: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-windows-'));
  const rows = Array.from({ length: 90 }, (_, i) => ({
    id: i,
    grp: i % 11 === 0 ? null : ['a', 'b', 'c', 'd', 'e'][(i * 7) % 5], // a null window partition too
    t: i % 17 === 0 ? null : (i * 13) % 9, // ties and null order values
    x: i % 5 === 0 ? null : (i * 31) % 23,
  }));
  // 4 files of which the last is empty (90 rows dealt round-robin fill all; 7 splits make empty ones).
  events = await writeTable(dir, 'events', rows, TYPES, 'json', 3);
  scan = `read_json('${events}', format = 'newline_delimited', columns = {'id': 'BIGINT', 'grp': 'VARCHAR', 't': 'INTEGER', 'x': 'INTEGER'})`;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const OVER = 'PARTITION BY grp ORDER BY t DESC NULLS LAST, id ASC NULLS FIRST';

describe('window functions equal single-process DuckDB', () => {
  for (const [shuffle, splits] of [
    [1, 1],
    [3, 2],
    [7, 5],
  ] as const) {
    it(`ranking, lag/lead and framed aggregates, ${shuffle} shuffle partition(s), ${splits} split(s) per file`, async () => {
      const job = defineJob((ctx) => {
        ctx.conf.set('spark.sql.shuffle.partitions', shuffle);
        const df = ctx.read.json(events, { schema: TYPES });
        const byTime = Window.partitionBy('grp').orderBy(col('t').desc(), 'id');
        const tied = Window.partitionBy('grp').orderBy(col('t').desc());
        const running = byTime.rowsBetween(Window.unboundedPreceding, Window.currentRow);
        return {
          ranked: df
            .withColumn('rn', row_number().over(byTime))
            .withColumn('rk', rank().over(tied))
            .withColumn('drk', dense_rank().over(tied))
            .withColumn('prev', lag('x').over(byTime))
            .withColumn('next2', lead('x', 2, -1).over(byTime))
            .collect(),
          aggregates: df
            .select(
              'id',
              'grp',
              sum('x').over(running).as('running'),
              avg('x').over(byTime.rowsBetween(-1, 1)).as('moving'),
              min('x').over(Window.partitionBy('grp')).as('lo'),
              max('x').over(tied).as('hi_so_far'),
              count('x').over(Window.partitionBy('grp')).as('n'),
              sum('x')
                .over(Window.partitionBy('grp').orderBy('t').rangeBetween(-2, Window.currentRow))
                .as('ranged'),
            )
            .collect(),
        };
      });
      const r = (await runDataFrameJob(job, undefined, {
        defaultParallelism: 3,
        splitsPerFile: splits,
      })) as Record<string, Record<string, unknown>[]>;
      const tiedOver = 'PARTITION BY grp ORDER BY t DESC NULLS LAST';
      const ranked = await referenceRows(
        `SELECT *, row_number() OVER (${OVER}) AS rn, rank() OVER (${tiedOver}) AS rk, dense_rank() OVER (${tiedOver}) AS drk, lag(x, 1, NULL) OVER (${OVER}) AS prev, lead(x, 2, -1) OVER (${OVER}) AS next2 FROM ${scan}`,
      );
      expect(r.ranked!.length).toBe(90);
      expect(normalised(r.ranked!, true)).toEqual(normalised(ranked, true));
      const aggregates = await referenceRows(
        `SELECT id, grp, CAST(sum(x) OVER (${OVER} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS running, avg(x) OVER (${OVER} ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS moving, min(x) OVER (PARTITION BY grp) AS lo, max(x) OVER (${tiedOver}) AS hi_so_far, count(x) OVER (PARTITION BY grp) AS n, CAST(sum(x) OVER (PARTITION BY grp ORDER BY t ASC NULLS FIRST RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) AS BIGINT) AS ranged FROM ${scan}`,
      );
      expect(normalised(r.aggregates!, true)).toEqual(normalised(aggregates, true));
    });
  }

  it('row_number over tied order values numbers each partition 1…n (checked against a deterministic order)', async () => {
    const job = defineJob((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 4);
      const df = ctx.read.json(events, { schema: TYPES });
      return df.withColumn('rn', row_number().over(Window.partitionBy('grp').orderBy('t'))).collect();
    });
    const rows = (await runDataFrameJob(job, undefined, { splitsPerFile: 3 })) as Record<string, unknown>[];
    // Ties get distinct numbers in no set order: per partition the numbers are 1…n, and sorting the
    // rows by rn keeps t ascending (nulls first), which a deterministic reference order also gives.
    const groups = new Map<unknown, Record<string, unknown>[]>();
    for (const row of rows) groups.set(row.grp, [...(groups.get(row.grp) ?? []), row]);
    const reference = await referenceRows(`SELECT grp, count(*) AS n FROM ${scan} GROUP BY grp`);
    expect(groups.size).toBe(reference.length);
    for (const { grp, n } of reference) {
      const group = groups.get(grp)!.sort((a, b) => Number(a.rn) - Number(b.rn));
      expect(group.map((g) => g.rn)).toEqual(Array.from({ length: Number(n) }, (_, i) => i + 1));
      const ts = group.map((g) => (g.t === null ? Number.NEGATIVE_INFINITY : Number(g.t)));
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    }
  });

  it('a window without partitionBy runs in one partition, and explain says why', async () => {
    const job = defineJob((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 4);
      const df = ctx.read
        .json(events, { schema: TYPES })
        .withColumn('rn', row_number().over(Window.orderBy('id')));
      return { rows: df.collect(), plan: df.explain() };
    });
    const r = (await runDataFrameJob(job, undefined, { splitsPerFile: 2 })) as {
      rows: Record<string, unknown>[];
      plan: string;
    };
    const reference = await referenceRows(`SELECT *, row_number() OVER (ORDER BY id) AS rn FROM ${scan}`);
    expect(normalised(r.rows, true)).toEqual(normalised(reference, true));
    expect(r.plan).toMatch(/single-partition exchange \(window without partitionBy/);
    expect(r.plan).toMatch(/row_number\(\) OVER \(ORDER BY "id" ASC NULLS FIRST\)/);
  });

  it('explain shows a hash exchange on the window partition keys', async () => {
    const job = defineJob((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 5);
      return ctx.read
        .json(events, { schema: TYPES })
        .withColumn('rk', rank().over(Window.partitionBy('grp', 't').orderBy('x')))
        .withColumn('total', sum('x').over(Window.partitionBy('grp')))
        .explain();
    });
    const plan = (await runDataFrameJob(job, undefined)) as string;
    expect(plan).toMatch(/hash exchange into 5 partitions on \[grp, t\]/);
    expect(plan).toMatch(/hash exchange into 5 partitions on \[grp\]/);
  });

  it('a ranking function over an unordered window is refused where it is written', () => {
    expect(() => row_number().over(Window.partitionBy('grp'))).toThrow(
      /row_number\(\) needs a window with an orderBy/,
    );
    expect(() => Window.rowsBetween(3, 1)).toThrow(/start \(3\) is after its end \(1\)/);
  });
});
