/**
 * The `sales` table of the operator tests: 240 rows with nulls in a string key and in a double
 * value, written as Parquet, CSV or JSON Lines files; the DataFrame read of those files and the
 * single-process DuckDB scan the results are compared with.
 */
import type { JobContext } from '../../engine/dataset/context.js';
import type { DataFrame } from '../../engine/sql/dataframe.js';
import type { TableFormat } from './tpch-data.js';

/** DuckDB types of the sales columns. */
export const SALES_TYPES = { id: 'BIGINT', region: 'VARCHAR', amount: 'DOUBLE', qty: 'INTEGER', day: 'DATE' };
/** The sales schema as a Spark DDL string. */
export const SCHEMA = 'id LONG, region STRING, amount DOUBLE, qty INT, day DATE';
const REGIONS = ['north', 'south', 'east', 'west', null];

/** `n` sales rows: region null for every fifth, amount null for every eleventh. */
export function salesRows(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i,
    region: REGIONS[(i * 7) % REGIONS.length],
    amount: i % 11 === 0 ? null : ((i * 37) % 500) + (i % 4) * 0.25,
    qty: (i * 13) % 9,
    day: `2024-0${1 + (i % 9)}-${String(1 + (i % 28)).padStart(2, '0')}`,
  }));
}

/** The DataFrame of the sales files matching `glob`. */
export function read(ctx: JobContext, format: TableFormat, glob: string): DataFrame {
  if (format === 'parquet') return ctx.read.parquet(glob);
  if (format === 'csv') return ctx.read.csv(glob, { header: true, schema: SCHEMA });
  return ctx.read.json(glob, { schema: SCHEMA });
}

/** DuckDB's scan of the same files, for the single-process reference query. */
export function scanSql(format: TableFormat, glob: string): string {
  if (format === 'parquet') return `read_parquet('${glob}')`;
  const columns = `{${Object.entries(SALES_TYPES)
    .map(([c, t]) => `'${c}': '${t}'`)
    .join(', ')}}`;
  if (format === 'csv') return `read_csv('${glob}', header = true, columns = ${columns})`;
  return `read_json('${glob}', format = 'newline_delimited', columns = ${columns})`;
}
