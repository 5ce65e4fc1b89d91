/**
 * A TPC-H-style data generator (our own, not dbgen): region, nation, supplier, customer, orders
 * and lineitem at a scale factor from 0.01 to 1, with TPC-H's column names and types, its key
 * relationships (every lineitem belongs to an order, every order to a customer, suppliers and
 * customers to the 25 nations of the 5 regions) and value distributions shaped like the spec's:
 * order dates uniform over 1992-01-01 … 1998-08-02, 1–7 lines per order, ship, commit and receipt
 * dates a few weeks after the order, return flags and line statuses from those dates around
 * 1995-06-17, prices from the part key, discounts 0–10 %, taxes 0–8 %, five market segments, and
 * only two customers in three placing orders. So the usual queries are selective in the usual way
 * (Q1 keeps ~98 % of lineitem, Q3 ~1/5 of customers, Q5 one region of five, Q6 ~2 %).
 *
 * Every value is a hash of its row number and a per-column stream, computed by DuckDB in SQL, so
 * a scale factor always gives the same rows (for one DuckDB version) and SF 1 (6 M line items)
 * takes seconds. Tables are written as Parquet by DuckDB: the big ones (lineitem, orders,
 * customer) in several files cut by key range, each in several row groups. With `nullShare` a
 * share of the rows get NULL in some value and join columns, for tests of null semantics.
 * Runs on the driver (a driver script, a test or a benchmark calls it), never in a task.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** The generated tables. */
export type TpchTable = 'region' | 'nation' | 'supplier' | 'customer' | 'orders' | 'lineitem';

/** What to generate and where. */
export interface TpchOptions {
  /** Folder the tables are written to, one sub-folder per table (`<dir>/lineitem/part-0.parquet`, …). */
  dir: string;
  /** TPC-H scale factor: 1 is 6 M line items, 1.5 M orders, 150 k customers, 10 k suppliers. */
  scale: number;
  /** Files of each of lineitem, orders and customer (default 4); the small tables are one file. */
  files?: number;
  /** Share (0–1) of rows given NULL in some value and join columns (default 0: TPC-H has none). */
  nullShare?: number;
  /** Reuse the folder when it holds a complete generation with the same options (default true). */
  reuse?: boolean;
}

/** The generated tables: a glob per table and its row counts. */
export interface TpchData {
  /** A glob that reads every file of the table, e.g. `<dir>/lineitem/*.parquet`. */
  tables: Record<TpchTable, string>;
  rows: Record<TpchTable, number>;
  /** Total size of the Parquet files (bytes). */
  bytes: number;
}

const TABLES: readonly TpchTable[] = ['region', 'nation', 'supplier', 'customer', 'orders', 'lineitem'];
const REGIONS = ['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST'];
/** TPC-H's 25 nations and the region of each. */
const NATIONS: [string, number][] = [
  ['ALGERIA', 0],
  ['ARGENTINA', 1],
  ['BRAZIL', 1],
  ['CANADA', 1],
  ['EGYPT', 4],
  ['ETHIOPIA', 0],
  ['FRANCE', 3],
  ['GERMANY', 3],
  ['INDIA', 2],
  ['INDONESIA', 2],
  ['IRAN', 4],
  ['IRAQ', 4],
  ['JAPAN', 2],
  ['JORDAN', 4],
  ['KENYA', 0],
  ['MOROCCO', 0],
  ['MOZAMBIQUE', 0],
  ['PERU', 1],
  ['CHINA', 2],
  ['ROMANIA', 3],
  ['SAUDI ARABIA', 4],
  ['VIETNAM', 2],
  ['RUSSIA', 3],
  ['UNITED KINGDOM', 3],
  ['UNITED STATES', 1],
];
const SEGMENTS = ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'HOUSEHOLD', 'MACHINERY'];
const PRIORITIES = ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'];
const SHIPMODES = ['AIR', 'FOB', 'MAIL', 'RAIL', 'REG AIR', 'SHIP', 'TRUCK'];
const INSTRUCTIONS = ['COLLECT COD', 'DELIVER IN PERSON', 'NONE', 'TAKE BACK RETURN'];
const WORDS = [
  'furiously',
  'quickly',
  'carefully',
  'blithely',
  'slyly',
  'final',
  'regular',
  'express',
  'pending',
  'ironic',
  'bold',
  'even',
  'special',
  'unusual',
  'deposits',
  'packages',
  'requests',
  'accounts',
  'theodolites',
  'instructions',
  'foxes',
  'pinto beans',
  'asymptotes',
  'dependencies',
  'sleep',
  'wake',
  'haggle',
  'nag',
  'use',
  'boost',
  'detect',
  'integrate',
];

/** SQL: a number in [0, 1) drawn from row `row` and stream `stream`. */
function u(row: string, stream: number): string {
  return `((hash(${row}, ${stream}) % 1000000) / 1000000.0)`;
}

/** SQL: an integer in [lo, hi] drawn from row `row` and stream `stream`. */
function uniform(row: string, stream: number, lo: number, hi: number): string {
  return `CAST(${lo} + floor(${u(row, stream)} * ${hi - lo + 1}) AS BIGINT)`;
}

/** SQL: one of `values`, drawn from row `row` and stream `stream`. */
function pick(values: readonly string[], row: string, stream: number): string {
  const list = values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
  return `[${list}][${uniform(row, stream, 1, values.length)}]`;
}

/** SQL: a comment of `words` words drawn from row `row`, streams from `stream` on. */
function comment(row: string, stream: number, words: number): string {
  return Array.from({ length: words }, (_, i) => pick(WORDS, row, stream + i)).join(" || ' ' || ");
}

/** SQL: `value`, or NULL for a `share` of the rows (stream `stream`). */
function nullable(value: string, row: string, stream: number, share: number): string {
  return share > 0 ? `CASE WHEN ${u(row, stream)} < ${share} THEN NULL ELSE ${value} END` : value;
}

/** SQL: a money value in [lo, hi] with cents. */
function money(row: string, stream: number, lo: number, hi: number): string {
  return `CAST(${uniform(row, stream, lo * 100, hi * 100)} / 100.0 AS DECIMAL(15,2))`;
}

/** SQL: TPC-H's phone number shape for a nation key. */
function phone(nation: string, row: string, stream: number): string {
  return `(${nation} + 10)::VARCHAR || '-' || ${uniform(row, stream, 100, 999)}::VARCHAR || '-' || ${uniform(row, stream + 1, 100, 999)}::VARCHAR || '-' || ${uniform(row, stream + 2, 1000, 9999)}::VARCHAR`;
}

function quote(p: string): string {
  return `'${p.replace(/'/g, "''")}'`;
}

/**
 * Generate the tables into `options.dir` (replacing what is there unless it is a complete
 * generation with the same options). Throws when the scale is outside 0.001–10.
 */
export async function generateTpch(options: TpchOptions): Promise<TpchData> {
  const { dir, scale } = options;
  if (!(scale >= 0.001 && scale <= 10)) throw new Error(`generateTpch: scale ${scale} is outside 0.001–10`);
  const files = Math.max(1, Math.floor(options.files ?? 4));
  const share = options.nullShare ?? 0;
  const manifestFile = path.join(dir, '_tpch.json');
  const wanted = JSON.stringify({ scale, files, share, version: 1 });
  if (options.reuse !== false) {
    try {
      const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
        options: string;
        data: TpchData;
      };
      if (manifest.options === wanted) return manifest.data;
    } catch {
      // no complete generation there: make one
    }
  }
  await rm(dir, { recursive: true, force: true });
  for (const t of TABLES) await mkdir(path.join(dir, t), { recursive: true });
  const suppliers = Math.max(1, Math.round(10_000 * scale));
  const customers = Math.max(3, Math.round(150_000 * scale));
  const orders = Math.max(1, Math.round(1_500_000 * scale));
  const parts = Math.max(1, Math.round(200_000 * scale));

  const db = await DuckDBInstance.create(':memory:', {
    threads: '2',
    memory_limit: '1GB',
    temp_directory: path.join(dir, '.tmp'),
    preserve_insertion_order: 'true',
  });
  const connection = await db.connect();
  const rows = {} as Record<TpchTable, number>;
  try {
    const run = (sql: string) => connection.run(sql);
    await run(`CREATE TABLE region AS SELECT CAST(i AS INTEGER) AS r_regionkey,
      [${REGIONS.map(quote).join(', ')}][i + 1] AS r_name, ${comment('i', 1, 6)} AS r_comment FROM range(5) t(i)`);
    await run(`CREATE TABLE nation AS SELECT CAST(i AS INTEGER) AS n_nationkey,
      [${NATIONS.map(([n]) => quote(n)).join(', ')}][i + 1] AS n_name,
      CAST([${NATIONS.map(([, r]) => r).join(', ')}][i + 1] AS INTEGER) AS n_regionkey,
      ${comment('i', 10, 8)} AS n_comment FROM range(25) t(i)`);
    await run(`CREATE TABLE supplier AS SELECT
      s_suppkey, 'Supplier#' || lpad(s_suppkey::VARCHAR, 9, '0') AS s_name,
      md5(s_suppkey::VARCHAR)[1:${20}] AS s_address,
      ${nullable('CAST(nk AS INTEGER)', 's_suppkey', 990, share)} AS s_nationkey,
      ${phone('nk', 's_suppkey', 21)} AS s_phone,
      ${money('s_suppkey', 24, -999.99, 9999.99)} AS s_acctbal,
      ${comment('s_suppkey', 25, 7)} AS s_comment
      FROM (SELECT i + 1 AS s_suppkey, ${uniform('i + 1', 20, 0, 24)} AS nk FROM range(${suppliers}) t(i))`);
    await run(`CREATE TABLE customer AS SELECT
      c_custkey, 'Customer#' || lpad(c_custkey::VARCHAR, 9, '0') AS c_name,
      md5(c_custkey::VARCHAR)[1:${24}] AS c_address,
      ${nullable('CAST(nk AS INTEGER)', 'c_custkey', 991, share)} AS c_nationkey,
      ${phone('nk', 'c_custkey', 41)} AS c_phone,
      ${money('c_custkey', 44, -999.99, 9999.99)} AS c_acctbal,
      ${nullable(pick(SEGMENTS, 'c_custkey', 45), 'c_custkey', 992, share)} AS c_mktsegment,
      ${comment('c_custkey', 46, 8)} AS c_comment
      FROM (SELECT i + 1 AS c_custkey, ${uniform('i + 1', 40, 0, 24)} AS nk FROM range(${customers}) t(i))`);
    // Orders: a customer key never a multiple of 3 (as TPC-H: a third of the customers order nothing).
    await run(`CREATE TABLE order_base AS SELECT
      o_orderkey,
      CAST(least(${customers}, 3 * floor(${u('o_orderkey', 60)} * ${Math.floor(customers / 3)}) + 1 + ${uniform('o_orderkey', 61, 0, 1)}) AS BIGINT) AS o_custkey,
      DATE '1992-01-01' + CAST(${uniform('o_orderkey', 62, 0, 2405)} AS INTEGER) AS o_orderdate,
      ${pick(PRIORITIES, 'o_orderkey', 63)} AS o_orderpriority,
      'Clerk#' || lpad(${uniform('o_orderkey', 64, 1, Math.max(1, Math.round(1000 * scale)))}::VARCHAR, 9, '0') AS o_clerk,
      ${comment('o_orderkey', 65, 6)} AS o_comment,
      ${uniform('o_orderkey', 66, 1, 7)} AS lines
      FROM (SELECT i + 1 AS o_orderkey FROM range(${orders}) t(i))`);
    // Lineitem: each order's lines; the line's row number for hashing is orderkey * 8 + line.
    const li = 'lrow';
    await run(`CREATE TABLE line_base AS SELECT *,
      CASE WHEN l_receiptdate <= DATE '1995-06-17' THEN (CASE WHEN ${u(li, 80)} < 0.5 THEN 'R' ELSE 'A' END) ELSE 'N' END AS l_returnflag,
      CASE WHEN l_shipdate > DATE '1995-06-17' THEN 'O' ELSE 'F' END AS l_linestatus
      FROM (SELECT *, l_shipdate + CAST(${uniform(li, 81, 1, 30)} AS INTEGER) AS l_receiptdate FROM (
        SELECT o_orderkey AS l_orderkey, lrow, pk AS l_partkey,
          ${uniform(li, 70, 1, suppliers)} AS l_suppkey,
          CAST(l AS INTEGER) AS l_linenumber,
          CAST(q AS DECIMAL(15,2)) AS l_quantity,
          CAST(q * (90000 + (pk // 10) % 20001 + 100 * (pk % 1000)) / 100.0 AS DECIMAL(15,2)) AS l_extendedprice,
          CAST(${uniform(li, 71, 0, 10)} / 100.0 AS DECIMAL(15,2)) AS l_discount,
          CAST(${uniform(li, 72, 0, 8)} / 100.0 AS DECIMAL(15,2)) AS l_tax,
          o_orderdate + CAST(${uniform(li, 73, 1, 121)} AS INTEGER) AS l_shipdate,
          o_orderdate + CAST(${uniform(li, 74, 30, 90)} AS INTEGER) AS l_commitdate,
          ${pick(INSTRUCTIONS, li, 75)} AS l_shipinstruct,
          ${pick(SHIPMODES, li, 76)} AS l_shipmode,
          ${comment(li, 77, 3)} AS l_comment
        FROM (SELECT o.*, l, o_orderkey * 8 + l AS lrow, ${uniform('(o_orderkey * 8 + l)', 69, 1, parts)} AS pk,
            ${uniform('(o_orderkey * 8 + l)', 68, 1, 50)} AS q
          FROM order_base o, range(1, 8) r(l) WHERE l <= o.lines)))`);
    await run(`CREATE TABLE lineitem AS SELECT
      l_orderkey, l_partkey, ${nullable('l_suppkey', 'lrow', 993, share)} AS l_suppkey, l_linenumber,
      ${nullable('l_quantity', 'lrow', 994, share)} AS l_quantity, l_extendedprice,
      ${nullable('l_discount', 'lrow', 995, share)} AS l_discount, l_tax,
      ${nullable('l_returnflag', 'lrow', 996, share)} AS l_returnflag, l_linestatus,
      ${nullable('l_shipdate', 'lrow', 997, share)} AS l_shipdate, l_commitdate, l_receiptdate,
      l_shipinstruct, l_shipmode, l_comment
      FROM line_base ORDER BY l_orderkey, l_linenumber`);
    // An order's status and total price come from its lines, as in TPC-H.
    await run(`CREATE TABLE orders AS SELECT
      o.o_orderkey, ${nullable('o.o_custkey', 'o.o_orderkey', 998, share)} AS o_custkey,
      CASE WHEN bool_and(l_linestatus = 'F') THEN 'F' WHEN bool_and(l_linestatus = 'O') THEN 'O' ELSE 'P' END AS o_orderstatus,
      CAST(sum(l_extendedprice * (1 + l_tax) * (1 - l_discount)) AS DECIMAL(15,2)) AS o_totalprice,
      ${nullable('o.o_orderdate', 'o.o_orderkey', 999, share)} AS o_orderdate,
      o.o_orderpriority, o.o_clerk, CAST(0 AS INTEGER) AS o_shippriority, o.o_comment
      FROM order_base o JOIN line_base l ON l.l_orderkey = o.o_orderkey
      GROUP BY ALL ORDER BY o.o_orderkey`);
    await run('DROP TABLE line_base; DROP TABLE order_base');

    const keyOf: Record<TpchTable, string> = {
      region: 'r_regionkey',
      nation: 'n_nationkey',
      supplier: 's_suppkey',
      customer: 'c_custkey',
      orders: 'o_orderkey',
      lineitem: 'l_orderkey',
    };
    const extent: Record<TpchTable, number> = {
      region: 5,
      nation: 25,
      supplier: suppliers,
      customer: customers,
      orders,
      lineitem: orders,
    };
    for (const table of TABLES) {
      const count = Number(
        (await connection.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRows()[0]?.[0] ?? 0,
      );
      rows[table] = count;
      const n = table === 'lineitem' || table === 'orders' || table === 'customer' ? files : 1;
      // Several row groups per file (at least DuckDB's vector size of 2,048 rows each).
      const rowGroup = Math.max(2048, Math.ceil(count / n / 3));
      for (let f = 0; f < n; f++) {
        // Keys 1..extent cut into n consecutive ranges (region and nation keys start at 0).
        const lo = Math.floor((f * extent[table]) / n);
        const hi = Math.floor(((f + 1) * extent[table]) / n);
        const base = table === 'region' || table === 'nation' ? 0 : 1;
        const target = path.join(dir, table, `part-${f}.parquet`);
        await run(
          `COPY (SELECT * FROM ${table} WHERE ${keyOf[table]} >= ${lo + base} AND ${keyOf[table]} < ${hi + base} ORDER BY ${keyOf[table]}${table === 'lineitem' ? ', l_linenumber' : ''})
           TO ${quote(target)} (FORMAT parquet, ROW_GROUP_SIZE ${rowGroup})`,
        );
      }
    }
  } finally {
    connection.closeSync();
    db.closeSync();
    await rm(path.join(dir, '.tmp'), { recursive: true, force: true });
  }
  let bytes = 0;
  for (const t of TABLES) {
    for (const f of await readdir(path.join(dir, t))) bytes += (await stat(path.join(dir, t, f))).size;
  }
  const tables = Object.fromEntries(TABLES.map((t) => [t, path.join(dir, t, '*.parquet')])) as Record<
    TpchTable,
    string
  >;
  const data: TpchData = { tables, rows, bytes };
  await writeFile(manifestFile, JSON.stringify({ options: wanted, data }));
  return data;
}
