/**
 * Writes a TPC-H-style `lineitem` table as a Parquet file with DuckDB, for the DataFrame example:
 * `rows` line items with quantities, prices, discounts, taxes, flags and ship dates drawn from a
 * hash of the row number, so the same `rows` always give the same file. Runs on the driver (a
 * driver script calls it); the job then reads the file like any Parquet input.
 */
import { DuckDBInstance } from '@duckdb/node-api';

/** Write `rows` line items to `file` (Parquet, row groups of 100,000 rows). */
export async function writeLineitemParquet(file: string, rows: number): Promise<void> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  // u(i, k): a deterministic number in [0, 1) for row i and stream k.
  const u = (k: number) => `(hash(i, ${k}) % 1000000) / 1000000.0`;
  try {
    await connection.run(`
      COPY (
        SELECT
          CAST(i // 4 + 1 AS BIGINT) AS l_orderkey,
          CAST(i % 4 + 1 AS INTEGER) AS l_linenumber,
          CAST(floor(1 + 50 * ${u(1)}) AS DECIMAL(15,2)) AS l_quantity,
          CAST(round((900 + 1100 * ${u(2)}) * floor(1 + 50 * ${u(1)}), 2) AS DECIMAL(15,2)) AS l_extendedprice,
          CAST(floor(11 * ${u(3)}) / 100 AS DECIMAL(15,2)) AS l_discount,
          CAST(floor(9 * ${u(4)}) / 100 AS DECIMAL(15,2)) AS l_tax,
          CASE WHEN ${u(5)} < 0.25 THEN 'R' WHEN ${u(5)} < 0.5 THEN 'A' ELSE 'N' END AS l_returnflag,
          CASE WHEN ${u(6)} < 0.5 THEN 'F' ELSE 'O' END AS l_linestatus,
          DATE '1992-01-02' + CAST(floor(2500 * ${u(7)}) AS INTEGER) AS l_shipdate,
          ['AIR', 'MAIL', 'RAIL', 'SHIP', 'TRUCK'][CAST(floor(5 * ${u(8)}) AS INTEGER) + 1] AS l_shipmode
        FROM range(${Math.floor(rows)}) t(i)
      ) TO '${file.replace(/'/g, "''")}' (FORMAT parquet, ROW_GROUP_SIZE 100000)`);
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}
