/**
 * DuckDB values as the JSON-like values a DataFrame's rows hold on the driver: integers and
 * decimals as numbers (integers past 2^53 as decimal strings, so no digit is lost), doubles as
 * numbers, strings, booleans, dates as `YYYY-MM-DD`, timestamps as `YYYY-MM-DD HH:MM:SS[.ffffff]`,
 * lists as arrays, structs as objects, null as null. The same rule for every result path.
 */
import type { DuckDBResultReader } from '@duckdb/node-api';

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|DECIMAL\(\d+,\d+\))$/;

function toNumber(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const n = Number(value);
  if (!Number.isFinite(n)) return value;
  // Integers beyond 2^53 keep their digits as a string; decimals become the nearest double.
  if (/^-?\d+$/.test(value) && !Number.isSafeInteger(n)) return value;
  return n;
}

/**
 * The conversion of one row of DuckDB's JSON values (`getRowsJson`, `yieldRowsJson`) for columns
 * of `types`, as the file comment says: every result path, read whole or streamed, uses it.
 */
export function rowConverter(
  types: readonly { toString(): string }[],
): (row: readonly unknown[]) => unknown[] {
  const numeric = types.map((t) => NUMERIC.test(String(t)));
  return (row) => row.map((v, i) => (numeric[i] ? toNumber(v) : v));
}

/** The rows of a read result, each an array of values in column order (see the file comment). */
export function rowsOf(reader: DuckDBResultReader): unknown[][] {
  return reader.getRowsJson().map(rowConverter(reader.columnTypes()));
}
