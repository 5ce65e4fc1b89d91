/**
 * A small TPC-H-style generator for DataFrame tests and the example: `lineitem` and `orders`
 * rows from a seeded generator (deterministic for a seed and scale), written by DuckDB as
 * Parquet, CSV with a header, or JSON Lines — one or more files each, so tests read the same
 * data through every format and file split. Scale 1 is 1,500 orders (~6,000 line items), a
 * thousandth of TPC-H's SF 1; the value distributions follow the spec's shapes, not its
 * exact text.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** A seeded pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PRIORITIES = ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'];
const SHIPMODES = ['AIR', 'FOB', 'MAIL', 'RAIL', 'REG AIR', 'SHIP', 'TRUCK'];
const START = Date.UTC(1992, 0, 1);
const DAY = 86_400_000;

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The two tables as rows (objects), for `scale` × 1,500 orders. */
export function tpchRows(
  scale: number,
  seed = 1,
): { lineitem: Record<string, unknown>[]; orders: Record<string, unknown>[] } {
  const random = rng(seed);
  const orders: Record<string, unknown>[] = [];
  const lineitem: Record<string, unknown>[] = [];
  const n = Math.round(1500 * scale);
  for (let o = 1; o <= n; o++) {
    const orderDate = START + Math.floor(random() * 2405) * DAY; // 1992-01-01 … 1998-08-02
    const lines = 1 + Math.floor(random() * 7);
    let total = 0;
    for (let l = 1; l <= lines; l++) {
      const quantity = 1 + Math.floor(random() * 50);
      const price = Math.round(quantity * (900 + random() * 1100) * 100) / 100;
      const discount = Math.floor(random() * 11) / 100;
      const tax = Math.floor(random() * 9) / 100;
      const ship = orderDate + (1 + Math.floor(random() * 121)) * DAY;
      const receipt = ship + (1 + Math.floor(random() * 30)) * DAY;
      const shipped = ship <= Date.UTC(1995, 5, 17);
      lineitem.push({
        l_orderkey: o,
        l_partkey: 1 + Math.floor(random() * 200 * scale + 1),
        l_suppkey: 1 + Math.floor(random() * 10),
        l_linenumber: l,
        l_quantity: quantity,
        l_extendedprice: price,
        l_discount: discount,
        l_tax: tax,
        l_returnflag: shipped ? (random() < 0.5 ? 'R' : 'A') : 'N',
        l_linestatus: ship > Date.UTC(1995, 5, 17) ? 'O' : 'F',
        l_shipdate: isoDate(ship),
        l_commitdate: isoDate(orderDate + (30 + Math.floor(random() * 61)) * DAY),
        l_receiptdate: isoDate(receipt),
        l_shipmode: SHIPMODES[Math.floor(random() * SHIPMODES.length)],
      });
      total += price * (1 - discount) * (1 + tax);
    }
    orders.push({
      o_orderkey: o,
      o_custkey: 1 + Math.floor(random() * 150 * scale + 1),
      o_orderstatus: random() < 0.5 ? 'F' : 'O',
      o_totalprice: Math.round(total * 100) / 100,
      o_orderdate: isoDate(orderDate),
      o_orderpriority: PRIORITIES[Math.floor(random() * PRIORITIES.length)],
      o_shippriority: 0,
    });
  }
  return { lineitem, orders };
}

/** The DuckDB types of the generated columns (TPC-H's: decimals for money, dates for dates). */
export const TPCH_TYPES: Record<'lineitem' | 'orders', Record<string, string>> = {
  lineitem: {
    l_orderkey: 'BIGINT',
    l_partkey: 'BIGINT',
    l_suppkey: 'BIGINT',
    l_linenumber: 'INTEGER',
    l_quantity: 'DECIMAL(15,2)',
    l_extendedprice: 'DECIMAL(15,2)',
    l_discount: 'DECIMAL(15,2)',
    l_tax: 'DECIMAL(15,2)',
    l_returnflag: 'VARCHAR',
    l_linestatus: 'VARCHAR',
    l_shipdate: 'DATE',
    l_commitdate: 'DATE',
    l_receiptdate: 'DATE',
    l_shipmode: 'VARCHAR',
  },
  orders: {
    o_orderkey: 'BIGINT',
    o_custkey: 'BIGINT',
    o_orderstatus: 'VARCHAR',
    o_totalprice: 'DECIMAL(15,2)',
    o_orderdate: 'DATE',
    o_orderpriority: 'VARCHAR',
    o_shippriority: 'INTEGER',
  },
};

/** File formats the tables are written in. */
export type TableFormat = 'parquet' | 'csv' | 'json';

/**
 * Write `rows` (columns typed by `types`) into `dir` as `files` files of `format`; returns the
 * glob that reads them all. Rows are dealt round-robin, so a file may be empty when there are
 * more files than rows.
 */
export async function writeTable(
  dir: string,
  name: string,
  rows: readonly Record<string, unknown>[],
  types: Record<string, string>,
  format: TableFormat,
  files = 1,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    const columns = `{${Object.entries(types)
      .map(([c, t]) => `'${c}': '${t}'`)
      .join(', ')}}`;
    for (let f = 0; f < files; f++) {
      const part = rows.filter((_, i) => i % files === f);
      const jsonl = path.join(dir, `${name}-${f}.tmp.jsonl`);
      await writeFile(jsonl, part.map((r) => JSON.stringify(r)).join('\n') + (part.length > 0 ? '\n' : ''));
      const target = path.join(dir, `${name}-${f}.${format === 'json' ? 'jsonl' : format}`);
      const source = `read_json('${jsonl}', format = 'newline_delimited', columns = ${columns})`;
      const options =
        format === 'parquet'
          ? '(FORMAT parquet, ROW_GROUP_SIZE 1000)'
          : format === 'csv'
            ? '(FORMAT csv, HEADER true)'
            : '(FORMAT json)';
      await connection.run(`COPY (SELECT * FROM ${source}) TO '${target}' ${options}`);
    }
    await connection.run('SELECT 1');
  } finally {
    connection.closeSync();
    db.closeSync();
  }
  const { rm } = await import('node:fs/promises');
  for (let f = 0; f < files; f++) await rm(path.join(dir, `${name}-${f}.tmp.jsonl`), { force: true });
  return path.join(dir, `${name}-*.${format === 'json' ? 'jsonl' : format}`);
}

/** Run `sql` in one DuckDB process (the reference) and return its rows as the distributed path returns them. */
export async function referenceRows(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    const { rowsOf } = await import('../../duckdb/values.js');
    const names = reader.columnNames();
    return rowsOf(reader).map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]])));
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

/** Rows with numbers rounded to 6 significant fraction digits (float sums differ in the last bits by summation order). */
export function normalised(
  rows: readonly Record<string, unknown>[],
  sorted = false,
): Record<string, unknown>[] {
  const round = (v: unknown) =>
    typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(10)) : v;
  const out = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)])));
  if (sorted)
    out.sort((a, b) =>
      JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0,
    );
  return out;
}
