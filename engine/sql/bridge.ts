/**
 * The Dataset ⇄ DataFrame bridge (Spark's `rdd.toDF(schema)` / `createDataFrame(rdd, schema)` and
 * `df.rdd`). A stage runs either JavaScript closures or one DuckDB query, never both, so the
 * bridge is a stage boundary whose exchange keeps every partition whole and in place: a shuffle
 * with the `direct` partitioner (engine/shuffle/partitioner.ts), where map task p writes only
 * segment p, in the Dataset shuffle's record codec (the engine cannot read Parquet; DuckDB's side
 * decodes the codec). So toDF keeps the Dataset's partitions and rdd() the DataFrame's, and each
 * task across the bridge reads one non-empty segment (docs/decisions.md).
 *
 * - toDF: a narrow node checks each record against the schema (an object by column name or an
 *   array by position; a missing column or a value of another type fails the task, naming the
 *   partition, the column, the value and the toDF call) and keys it by its partition; the
 *   relational node reads those rows (input kind `records`).
 * - rdd(): the DataFrame's last fragment writes its rows as plain objects by column name (values as
 *   `collect()` gives them, duckdb/values.ts) to its own segment (exchange mode `rows`); the Dataset
 *   is the reduce side of that exchange.
 */
import { StratusError } from '../../contract/errors.js';
import type { GraphBuilder } from '../dataset/graph-builder.js';
import type { Row } from './df-actions.js';
import type { ExchangeSpec } from './fragment.js';
import { EXCHANGE_OPTION } from './planner.js';
import type { StructField, StructType } from './types.js';

/** A record of `df.rdd()`: the row collect() gives (Spark's Row ≈ an object by column name). */
export type { Row };

const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  TINYINT: [-128, 127],
  SMALLINT: [-32768, 32767],
  INTEGER: [-2147483648, 2147483647],
};
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;
const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

/** A value for messages: strings quoted, objects as JSON, cut at 80 characters. */
function shown(value: unknown): string {
  let text: string;
  if (typeof value === 'bigint') text = `${value}n`;
  else if (value instanceof Date)
    text = `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  else if (value instanceof Uint8Array) text = `Uint8Array(${value.length})`;
  else if (value === undefined) text = 'undefined';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The ISO text of a valid Date in UTC, as DuckDB reads a TIMESTAMP (`2024-01-02 03:04:05.678`). */
function utcText(date: Date): string | undefined {
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * The value of column `field` as the JSON value DuckDB's reader turns into the column's type, or
 * undefined when `value` is not of that type (the caller names it). Nothing is coerced: a number
 * is never a string column's value, nor a string an integer's.
 */
export function columnValue(field: StructField, value: unknown): unknown {
  const type = field.type.toUpperCase();
  const range = INTEGER_RANGES[type];
  if (range) {
    return typeof value === 'number' && Number.isInteger(value) && value >= range[0] && value <= range[1]
      ? value
      : undefined;
  }
  switch (type) {
    case 'VARCHAR':
      return typeof value === 'string' ? value : undefined;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : undefined;
    case 'BIGINT': {
      // Numbers are exact only up to 2^53; a bigint (or the decimal string collect() gives past it) is exact.
      if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
      const big =
        typeof value === 'bigint'
          ? value
          : typeof value === 'string' && /^-?\d+$/.test(value)
            ? BigInt(value)
            : undefined;
      return big !== undefined && big >= BIGINT_MIN && big <= BIGINT_MAX ? big.toString() : undefined;
    }
    case 'DOUBLE':
    case 'FLOAT':
      if (typeof value !== 'number') return undefined;
      // JSON has no NaN or infinities: DuckDB reads them from their names.
      return Number.isFinite(value) ? value : String(value);
    case 'DATE':
      if (value instanceof Date) return utcText(value)?.slice(0, 10);
      return typeof value === 'string' && DATE_TEXT.test(value) ? value : undefined;
    case 'TIMESTAMP':
      if (value instanceof Date) return utcText(value);
      return typeof value === 'string' && TIMESTAMP_TEXT.test(value) ? value : undefined;
    case 'BLOB':
      if (value instanceof Uint8Array)
        return Array.from(value, (b) => `\\x${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
      // The text collect() gives for a BLOB (DuckDB's escaped form) round-trips.
      return typeof value === 'string' ? value : undefined;
  }
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) {
    const text =
      typeof value === 'number' && Number.isFinite(value)
        ? String(value)
        : typeof value === 'bigint'
          ? value.toString()
          : typeof value === 'string' && DECIMAL_TEXT.test(value)
            ? value
            : undefined;
    if (text === undefined || /e/i.test(text)) return undefined;
    // The integer digits must fit the precision less the scale (DuckDB would refuse the whole file).
    const integerDigits = text.replace(/^-/, '').split('.')[0]!.replace(/^0+/, '').length;
    return integerDigits <= Number(decimal[1]) - Number(decimal[2]) ? text : undefined;
  }
  throw new Error(`internal: toDF has no check for column type ${field.type}`);
}

/** Where a toDF check runs: the call, for messages, and the partition being checked. */
export interface ToDFSite {
  /** `toDF at job.ts:12` (or `toDF`). */
  readonly label: string;
  readonly partition: number;
}

/** Thrown inside a task when a record does not match toDF's schema; deterministic, so not retryable. */
export class ToDFRecordError extends StratusError {
  constructor(message: string, partition: number) {
    super('TODF_RECORD', message, { partition }, { retryable: false });
    this.name = 'ToDFRecordError';
  }
}

/**
 * One record as the row DuckDB reads: its values in schema order (see columnValue). Throws
 * ToDFRecordError naming the partition, the column, the value and the toDF call.
 */
export function checkedRow(record: unknown, schema: StructType, site: ToDFSite): unknown[] {
  const fields = schema.fields;
  const fail = (what: string): never => {
    throw new ToDFRecordError(`${site.label}: partition ${site.partition}: ${what}`, site.partition);
  };
  let values: readonly unknown[];
  if (Array.isArray(record)) {
    if (record.length !== fields.length)
      fail(`a record has ${record.length} values, the schema ${fields.length} columns: ${shown(record)}`);
    values = record;
  } else if (
    record !== null &&
    typeof record === 'object' &&
    !(record instanceof Date) &&
    !(record instanceof Uint8Array)
  ) {
    const object = record as Record<string, unknown>;
    values = fields.map((f) => {
      if (!Object.hasOwn(object, f.name) || object[f.name] === undefined)
        fail(`column "${f.name}" is missing from record ${shown(record)}`);
      return object[f.name];
    });
  } else {
    return fail(
      `a record must be an object (by column name) or an array (by position), got ${shown(record)}`,
    );
  }
  return fields.map((f, i) => {
    const value = values[i];
    if (value === null) {
      if (!f.nullable) fail(`column "${f.name}" is not nullable but the record has null: ${shown(record)}`);
      return null;
    }
    const converted = columnValue(f, value);
    if (converted === undefined)
      fail(
        `column "${f.name}" (${f.type}) cannot hold ${shown(value)} (${valueKind(value)}) of record ${shown(record)}`,
      );
    return converted;
  });
}

function valueKind(value: unknown): string {
  if (value instanceof Date) return 'a Date';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'a fractional number';
  return `a ${typeof value}`;
}

/** The exchange spec of the rdd() bridge: each map task's rows, as objects, to its own partition. */
export const ROWS_EXCHANGE: ExchangeSpec = { mode: 'rows' };

/**
 * Add the direct exchange of the bridge reading node `parent`: `keyed` for toDF (records are
 * [partition, row] pairs), unkeyed rows for rdd(). Returns the exchange node.
 */
export function addBridgeExchange(
  builder: GraphBuilder,
  parent: number,
  op: 'toDF' | 'rdd',
  label: string,
): number {
  const shuffleId = builder.nextShuffleId();
  return builder.addNode({
    op: op === 'toDF' ? 'toDF exchange' : 'rdd',
    parents: [parent],
    options: op === 'rdd' ? { [EXCHANGE_OPTION]: JSON.stringify(ROWS_EXCHANGE), for: label } : { for: label },
    impl: {
      type: 'shuffled',
      dep: { shuffleId, parent, keyed: op === 'toDF', mapSideCombine: false },
      partitioning: 'direct',
    },
  });
}
