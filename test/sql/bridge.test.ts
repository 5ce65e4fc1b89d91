/**
 * The Dataset ⇄ DataFrame bridge (engine/sql/bridge.ts), run in one process with the stages the
 * scheduler runs (Dataset stages through the engine's runTask, DataFrame stages through DuckDB):
 * `ds.toDF(schema)` over every column type the schema supports, with nulls and empty partitions,
 * compared with plain JS over the same records; `df.rdd()` of a Parquet scan through reduceByKey,
 * back through `toDF` and SQL, compared with plain JS over the rows written; partitions kept on
 * both sides; and the errors of records that do not match the schema.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { runDataFrameJob } from './local-dataframe-runner.js';
import { SALES_TYPES, salesRows } from './sales-table.js';
import { writeTable } from './tpch-data.js';

/** Every column type a schema can name. */
const ALL_TYPES =
  's STRING, i INT, l LONG, sh SHORT, b BYTE, d DOUBLE, f FLOAT, ok BOOLEAN, day DATE, at TIMESTAMP, price DECIMAL(10,2), bytes BINARY';

/** Record `i` of the all-types data: a null in every column now and then, JS values in each form toDF takes. */
function record(i: number): Record<string, unknown> {
  const nullIf = (k: number, v: unknown) => (i % k === 0 ? null : v);
  return {
    s: nullIf(5, `name-${i}`),
    i: nullIf(7, i * 1000 - 5000),
    l: i % 3 === 0 ? 2n ** 53n + BigInt(i) : i * 1_000_000_007,
    sh: nullIf(4, i - 100),
    b: (i % 100) - 50,
    d: nullIf(6, i / 8),
    f: i / 4,
    ok: nullIf(9, i % 2 === 0),
    day:
      i % 2 === 0 ? new Date(Date.UTC(2024, 0, 1 + i)) : `2024-03-${String(1 + (i % 28)).padStart(2, '0')}`,
    at:
      i % 2 === 0
        ? new Date(Date.UTC(2024, 4, 6, i % 24, 8, 9, 111 + (i % 8)))
        : `2024-05-06 07:08:${String(i % 60).padStart(2, '0')}.123456`,
    price: nullIf(8, i % 2 === 0 ? i + 0.5 : `${i}.25`),
    bytes: nullIf(10, new Uint8Array([i % 32, 200 + (i % 50)])),
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Plain JS: the row collect() documents for record `r` (docs/dataframes.md, "Datasets and DataFrames"). */
function expectedRow(r: Record<string, unknown>): Record<string, unknown> {
  const dateText = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const out: Record<string, unknown> = { ...r };
  out.l = typeof r.l === 'bigint' ? r.l.toString() : r.l;
  if (r.day instanceof Date) out.day = dateText(r.day);
  if (r.at instanceof Date)
    out.at = `${dateText(r.at)} ${pad(r.at.getUTCHours())}:${pad(r.at.getUTCMinutes())}:${pad(r.at.getUTCSeconds())}.${pad(r.at.getUTCMilliseconds(), 3)}`;
  if (typeof r.price === 'string') out.price = Number(r.price);
  if (r.bytes instanceof Uint8Array)
    out.bytes = Array.from(r.bytes, (b) => `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  return out;
}

describe('ds.toDF(schema)', () => {
  for (const [n, slices] of [
    [40, 5],
    [3, 6],
    [0, 2],
  ] as const) {
    it(`gives every column type as collect() documents it, keeps the ${slices} partitions, and round-trips through rdd() (${n} records)`, async () => {
      const records = Array.from({ length: n }, (_, i) => record(i));
      const job = defineJob((ctx) => {
        const ds = ctx.parallelize(records, slices);
        const df = ds.toDF(ALL_TYPES);
        return {
          rows: df.collect(),
          partitions: df.rdd().glom().collect(),
          again: df.rdd().toDF(ALL_TYPES).collect(),
          count: df.count(),
        };
      });
      const out = (await runDataFrameJob(job, {})) as Record<string, unknown[]>;
      const expected = records.map(expectedRow);
      expect(out.rows).toEqual(expected);
      // The same partitions as parallelize's slices: [floor(i·n/k), floor((i+1)·n/k)).
      const slicesOf = Array.from({ length: slices }, (_, p) =>
        expected.slice(Math.floor((p * n) / slices), Math.floor(((p + 1) * n) / slices)),
      );
      expect(out.partitions).toEqual(slicesOf);
      expect(out.again).toEqual(expected);
      expect(out.count).toBe(n);
    });
  }

  it('takes arrays by position, and the DataFrame takes SQL views and aggregations', async () => {
    const pairs = Array.from({ length: 30 }, (_, i) => [i % 4 === 0 ? null : `k${i % 3}`, i] as const);
    const job = defineJob((ctx) => {
      ctx.parallelize(pairs, 4).toDF('k STRING, v LONG').createOrReplaceTempView('pairs');
      return ctx.sql('SELECT k, sum(v) AS total, count(*) AS n FROM pairs GROUP BY k ORDER BY k').collect();
    });
    const totals = new Map<string | null, { total: number; n: number }>();
    for (const [k, v] of pairs) {
      const t = totals.get(k) ?? { total: 0, n: 0 };
      totals.set(k, { total: t.total + v, n: t.n + 1 });
    }
    const expected = [...totals]
      .sort(([a], [b]) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : 1))
      .map(([k, t]) => ({ k, ...t }));
    expect(await runDataFrameJob(job, {})).toEqual(expected);
  });

  const failing: [string, unknown[], string, RegExp][] = [
    [
      'a value of another type',
      [
        { k: 'a', v: 1 },
        { k: 'b', v: '2' },
      ],
      'k STRING, v INT',
      /toDF at bridge\.test\.ts:\d+: partition 1: column "v" \(INTEGER\) cannot hold "2" \(a string\)/,
    ],
    [
      'a missing column',
      [{ k: 'a', v: 1 }, { k: 'b' }],
      'k STRING, v INT',
      /toDF at bridge\.test\.ts:\d+: partition 1: column "v" is missing from record \{"k":"b"\}/,
    ],
    [
      'a fractional number for an integer',
      [
        { k: 'a', v: 1.5 },
        { k: 'b', v: 2 },
      ],
      'k STRING, v INT',
      /partition 0: column "v" \(INTEGER\) cannot hold 1\.5 \(a fractional number\)/,
    ],
    [
      'a number for a string',
      [
        { k: 7, v: 1 },
        { k: 'b', v: 2 },
      ],
      'k STRING, v INT',
      /partition 0: column "k" \(VARCHAR\) cannot hold 7/,
    ],
    [
      'null in a NOT NULL column',
      [
        { k: 'a', v: 1 },
        { k: null, v: 2 },
      ],
      'k STRING NOT NULL, v INT',
      /partition 1: column "k" is not nullable but the record has null/,
    ],
    [
      'an array of the wrong length',
      [['a', 1], ['b']],
      'k STRING, v INT',
      /partition 1: a record has 1 values, the schema 2 columns/,
    ],
    [
      'a bigint beyond BIGINT',
      [
        { k: 'a', v: 2n ** 64n },
        { k: 'b', v: 1 },
      ],
      'k STRING, v LONG',
      /partition 0: column "v" \(BIGINT\) cannot hold 18446744073709551616n/,
    ],
    [
      'a date that is not YYYY-MM-DD',
      [
        { k: 'a', v: '1/2/2024' },
        { k: 'b', v: null },
      ],
      'k STRING, v DATE',
      /partition 0: column "v" \(DATE\) cannot hold "1\/2\/2024"/,
    ],
  ];
  for (const [what, records, schema, message] of failing) {
    it(`fails the task on ${what}, naming the partition, the column, the value and the call`, async () => {
      const job = defineJob((ctx) => ctx.parallelize(records, 2).toDF(schema).collect());
      await expect(runDataFrameJob(job, {})).rejects.toThrow(message);
    });
  }
});

describe('df.rdd()', () => {
  let dir: string;
  let glob: string;
  const rows = salesRows(240);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stratus-bridge-'));
    glob = await writeTable(path.join(dir, 'sales'), 'sales', rows, SALES_TYPES, 'parquet', 3);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('of a Parquet scan keeps its partitions and gives plain row objects', async () => {
    const job = defineJob((ctx, p: { glob: string }) => {
      const rdd = ctx.read.parquet(p.glob).rdd();
      return {
        sizes: rdd
          .glom()
          .map((part) => part.length)
          .collect(),
        rows: rdd.collect(),
      };
    });
    const out = (await runDataFrameJob(job, { glob })) as {
      sizes: number[];
      rows: Record<string, unknown>[];
    };
    // The local runner reads one split per Parquet file: three partitions of 80 rows.
    expect(out.sizes).toEqual([80, 80, 80]);
    const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => Number(a.id) - Number(b.id);
    expect([...out.rows].sort(byId)).toEqual(rows);
  });

  it('goes through reduceByKey and back through toDF into SQL joined with the Parquet scan', async () => {
    const job = defineJob((ctx, p: { glob: string }) => {
      const sales = ctx.read.parquet(p.glob);
      sales.createOrReplaceTempView('sales');
      sales
        .rdd()
        .filter((r) => r.region !== null)
        .map((r) => [r.region as string, r.qty as number] as [string, number])
        .reduceByKey((a, b) => a + b, 3)
        .map(([region, total]) => ({ region, total_qty: total }))
        .toDF('region STRING, total_qty LONG')
        .createOrReplaceTempView('totals');
      return ctx
        .sql(
          `SELECT s.region, max(t.total_qty) AS total_qty, count(*) AS n, sum(s.amount) AS amount
           FROM sales s JOIN totals t ON s.region = t.region GROUP BY s.region ORDER BY s.region`,
        )
        .collect();
    });
    const out = (await runDataFrameJob(job, { glob }, { defaultParallelism: 3 })) as Record<string, number>[];
    const groups = new Map<string, { total_qty: number; n: number; amount: number }>();
    for (const r of rows) {
      if (r.region === null) continue;
      const g = groups.get(r.region as string) ?? { total_qty: 0, n: 0, amount: 0 };
      g.total_qty += r.qty as number;
      g.n += 1;
      g.amount += (r.amount as number | null) ?? 0;
      groups.set(r.region as string, g);
    }
    const expected = [...groups].sort(([a], [b]) => (a < b ? -1 : 1));
    expect(out.map((r) => r.region)).toEqual(expected.map(([region]) => region));
    for (const [i, [, g]] of expected.entries()) {
      expect(out[i]!.total_qty).toBe(g.total_qty);
      expect(out[i]!.n).toBe(g.n);
      expect(out[i]!.amount).toBeCloseTo(g.amount, 6);
    }
  });

  it('costs each task across the bridge one segment read at most, in both directions', async () => {
    const job = defineJob((ctx, p: { glob: string }) => ({
      toDF: ctx
        .parallelize(
          Array.from({ length: 50 }, (_, i) => ({ k: `k${i}` })),
          7,
        )
        .toDF('k STRING')
        .count(),
      rdd: ctx.read.parquet(p.glob).rdd().count(),
    }));
    const reads: [number, number, number][] = [];
    const out = await runDataFrameJob(
      job,
      { glob },
      { onSegmentReads: (shuffle, partition, segments) => reads.push([shuffle, partition, segments]) },
    );
    expect(out).toEqual({ toDF: 50, rdd: 240 });
    // 7 toDF tasks and 3 rdd() tasks (one per Parquet file), each reading its own map task's segment only.
    expect(reads).toHaveLength(10);
    expect(reads.every(([, , segments]) => segments === 1)).toBe(true);
    expect(new Set(reads.map(([shuffle, partition]) => `${shuffle}/${partition}`)).size).toBe(10);
  });

  it('shows the bridge in explain(): the Dataset stage and the direct exchange', async () => {
    const job = defineJob((ctx) =>
      ctx
        .parallelize([{ k: 'a' }], 2)
        .map((r) => r)
        .toDF('k STRING')
        .explain(),
    );
    const plan = (await runDataFrameJob(job, {})) as string;
    expect(plan).toMatch(/LogicalRDD \[k\] \(toDF at bridge\.test\.ts:\d+\)/);
    expect(plan).toMatch(/Stage 0 \(shuffle-map, 2 tasks\) → Dataset ⇄ DataFrame bridge/);
    expect(plan).toMatch(/Dataset pipeline: parallelize.* → map.* → toDF/);
    expect(plan).toMatch(/input: Dataset rows of shuffle \d+ \(toDF, checked against the schema\)/);
  });
});
