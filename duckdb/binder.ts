/**
 * The driver's analysis of every DataFrame of a run (Spark's analyzer, done by DuckDB's binder):
 * before any job is planned, each relational fragment is bound operator by operator against an
 * empty table with its input's columns — `DESCRIBE <query>` resolves every column, function and
 * type without reading data — and gets its final SQL and output schema (RelationalFragment.bound).
 * A missing column, a type mismatch or a SQL syntax error fails the run here, naming the user's
 * call (`filter at sales.ts:9`) and quoting DuckDB's message with its position in the SQL.
 * File schemas come from the driver's sample of each scan (the first file), unless given.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ConfigError, StratusError } from '../contract/errors.js';
import type { JobGraph } from '../engine/plan/graph.js';
import type { GraphNode } from '../engine/plan/nodes.js';
import { columnSql, sortOrderOf } from '../engine/sql/column.js';
import {
  broadcastRelation,
  type FragmentInput,
  type FragmentOp,
  type RelationalFragment,
} from '../engine/sql/fragment.js';
import { joinQuery, type ResolvedJoin } from '../engine/sql/join-plan.js';
import { exchangeSpecOf } from '../engine/sql/planner.js';
import {
  castColumnsSql,
  INPUT_QUERY,
  INPUT_RELATION,
  LEFT_RELATION,
  operatorSql,
  RIGHT_RELATION,
  unionSql,
} from '../engine/sql/sql-gen.js';
import { quoteIdent, type StructField, type StructType } from '../engine/sql/types.js';
import { scanRelationSql } from './scan-sql.js';
import { withSession } from './session.js';

/**
 * Where the binder finds a local copy of a scan's first input file (undefined when the input is
 * empty), or the scan's schema when the driver read it already (Parquet footers).
 */
export type ScanSampler = (
  nodeId: number,
  input: Extract<FragmentInput, { kind: 'scan' }>,
) => Promise<string | StructType | undefined>;

/** The Hive partition columns found above a scan's files (none for a flat folder). */
export type PartitionDiscovery = (nodeId: number) => readonly { name: string; type: string }[];

/** Thrown when a DataFrame's plan does not bind: a column, a type, an expression. Not retryable. */
export class AnalysisError extends StratusError {
  constructor(message: string) {
    super('DATAFRAME_ANALYSIS', message);
    this.name = 'AnalysisError';
  }
}

/** DuckDB's message without its error-class prefix noise, one line per line. */
function duckMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).trim();
}

async function describe(connection: DuckDBConnection, query: string): Promise<StructType> {
  const reader = await connection.runAndReadAll(`DESCRIBE ${query}`);
  const rows = reader.getRowObjectsJson() as { column_name: string; column_type: string; null: string }[];
  return {
    fields: rows.map((r) => ({ name: r.column_name, type: r.column_type, nullable: r.null !== 'NO' })),
  };
}

async function createInput(
  connection: DuckDBConnection,
  schema: StructType,
  name = INPUT_RELATION,
): Promise<void> {
  const columns = schema.fields.map((f) => `${quoteIdent(f.name)} ${f.type}`).join(', ');
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${name} (${columns})`);
}

/** The schema of a file: Parquet's own, CSV's header and (with inferSchema) sniffed types, JSON's sniffed fields. */
async function fileSchema(
  connection: DuckDBConnection,
  path: string,
  input: Extract<FragmentInput, { kind: 'scan' }>,
): Promise<StructType> {
  const sql = scanRelationSql(input.format, [{ path, skipHeader: false }], undefined, input.csv);
  const schema = await describe(connection, `SELECT * FROM ${sql}`);
  if (input.format === 'csv' && input.csv && !input.csv.header) {
    // Spark names headerless CSV columns _c0, _c1, …
    return { fields: schema.fields.map((f, i) => ({ ...f, name: `_c${i}`, nullable: true })) };
  }
  return { fields: schema.fields.map((f) => ({ ...f, nullable: true })) };
}

/** The Spark long of DuckDB's HUGEINT sums: every HUGEINT column of a query's output becomes BIGINT. */
function hugeintCasts(schema: StructType): { name: string; type: string }[] {
  return schema.fields.filter((f) => f.type === 'HUGEINT').map((f) => ({ name: f.name, type: 'BIGINT' }));
}

/** The query of a join or union fragment over its two sides, and its schema. */
async function bindJoin(
  connection: DuckDBConnection,
  input: Extract<FragmentInput, { kind: 'join' | 'union' }>,
  left: StructType,
  right: StructType,
  label: string,
): Promise<{ sql: string; schema: StructType; keys?: Pick<ResolvedJoin, 'leftKeys' | 'rightKeys'> }> {
  await createInput(connection, left, LEFT_RELATION);
  await createInput(connection, right, RIGHT_RELATION);
  let sql: string;
  let keys: Pick<ResolvedJoin, 'leftKeys' | 'rightKeys'> | undefined;
  try {
    if (input.kind === 'join') {
      const resolved = joinQuery(input, left, right, label);
      sql = resolved.sql;
      keys = resolved;
    } else sql = unionSql(input.byName, input.allowMissingColumns, left, right, label);
  } catch (error) {
    if (error instanceof ConfigError) throw new AnalysisError(error.message);
    throw error;
  }
  try {
    return { sql, schema: await describe(connection, sql), ...(keys ? { keys } : {}) };
  } catch (error) {
    throw new AnalysisError(`${label}: ${duckMessage(error)}`);
  }
}

/** The query of a broadcast join op over the query so far (`previous`, the stream side). */
async function bindBroadcastJoin(
  connection: DuckDBConnection,
  graph: JobGraph,
  op: Extract<FragmentOp, { op: 'broadcastJoin' }>,
  previous: string,
  schema: StructType,
): Promise<{ sql: string; broadcast: StructType }> {
  const small = joinSide(graph, op.exchange).bound.output;
  const relation = broadcastRelation(op.exchange);
  await createInput(connection, small, relation);
  const stream = `(${previous}) AS ${op.stream === 'left' ? LEFT_RELATION : RIGHT_RELATION}`;
  const built = `${relation} AS ${op.stream === 'left' ? RIGHT_RELATION : LEFT_RELATION}`;
  const [left, right] = op.stream === 'left' ? [schema, small] : [small, schema];
  const [leftFrom, rightFrom] = op.stream === 'left' ? [stream, built] : [built, stream];
  try {
    return { sql: joinQuery(op.join, left, right, op.label, leftFrom, rightFrom).sql, broadcast: small };
  } catch (error) {
    if (error instanceof ConfigError) throw new AnalysisError(error.message);
    throw error;
  }
}

/** Bind one fragment over `input` (for a join, over both sides); sets `fragment.bound`. */
async function bindFragment(
  connection: DuckDBConnection,
  graph: JobGraph,
  fragment: RelationalFragment,
  input: StructType,
  join?: { right: StructType; label: string },
): Promise<Pick<ResolvedJoin, 'leftKeys' | 'rightKeys'> | undefined> {
  let sql = INPUT_QUERY;
  let schema = input;
  let keys: Pick<ResolvedJoin, 'leftKeys' | 'rightKeys'> | undefined;
  const broadcasts: { exchange: number; columns: StructType }[] = [];
  if ((fragment.input.kind === 'join' || fragment.input.kind === 'union') && join) {
    ({ sql, schema, keys } = await bindJoin(connection, fragment.input, input, join.right, join.label));
  } else await createInput(connection, input);
  for (const op of fragment.ops) {
    let next: string;
    if (op.op === 'broadcastJoin') {
      const bound = await bindBroadcastJoin(connection, graph, op, sql, schema);
      next = bound.sql;
      broadcasts.push({ exchange: op.exchange, columns: bound.broadcast });
    } else {
      try {
        next = operatorSql(op, sql, schema);
      } catch (error) {
        if (error instanceof ConfigError) throw new AnalysisError(error.message);
        throw error;
      }
    }
    let described: StructType;
    try {
      described = await describe(connection, next);
    } catch (error) {
      throw new AnalysisError(
        `${op.label}: ${duckMessage(error)}\n  over columns: ${schema.fields.map((f) => f.name).join(', ')}`,
      );
    }
    const casts = hugeintCasts(described);
    if (casts.length > 0) {
      next = castColumnsSql(next, casts);
      described = await describe(connection, next);
    }
    sql = next;
    schema = described;
  }
  fragment.bound = {
    input,
    sql,
    output: schema,
    ...(join ? { right: join.right } : {}),
    ...(broadcasts.length > 0 ? { broadcasts } : {}),
  };
  return keys;
}

/** The bound fragment a join side's exchange reads. */
function joinSide(
  graph: JobGraph,
  exchangeId: number,
): RelationalFragment & { bound: NonNullable<RelationalFragment['bound']> } {
  const upstream = graph.node(graph.node(exchangeId).parents[0]!);
  if (upstream.impl.type !== 'relational' || !upstream.impl.fragment.bound) {
    throw new Error(`internal: join input ${exchangeId} is not bound`);
  }
  return upstream.impl.fragment as RelationalFragment & { bound: NonNullable<RelationalFragment['bound']> };
}

/**
 * Bind a join or a union: both sides' outputs, the join itself, and the type each join column is hashed as
 * on both sides (their common type, so equal keys of different types meet in one partition).
 */
async function bindJoinFragment(
  connection: DuckDBConnection,
  graph: JobGraph,
  node: GraphNode,
): Promise<void> {
  if (node.impl.type !== 'relational') return;
  const fragment = node.impl.fragment;
  const input = fragment.input;
  if (input.kind !== 'join' && input.kind !== 'union') return;
  const left = joinSide(graph, node.parents[0]!);
  const right = joinSide(graph, node.parents[1]!);
  const label = String(graph.node(node.parents[0]!).options.for ?? input.kind);
  const keys = await bindFragment(connection, graph, fragment, left.bound.output, {
    right: right.bound.output,
    label,
  });
  if (input.kind === 'union' || !keys) return; // round-robin sides: no keys to hash alike
  if (keys.leftKeys.length === 0) {
    throw new AnalysisError(
      `${label}: the join condition has no equality between a column of each side, so its sides cannot be hash-partitioned; add one, or broadcast a side (broadcast(df))`,
    );
  }
  const types: string[] = [];
  await createInput(connection, left.bound.output, LEFT_RELATION);
  await createInput(connection, right.bound.output, RIGHT_RELATION);
  for (const [i, leftKey] of keys.leftKeys.entries()) {
    const rightKey = keys.rightKeys[i]!;
    let common: StructType;
    try {
      common = await describe(
        connection,
        `SELECT ${columnSql(leftKey)} FROM ${LEFT_RELATION} UNION ALL SELECT ${columnSql(rightKey)} FROM ${RIGHT_RELATION}`,
      );
    } catch (error) {
      throw new AnalysisError(
        `${label}: the join keys ${columnSql(leftKey)} and ${columnSql(rightKey)}: ${duckMessage(error)}`,
      );
    }
    types.push(common.fields[0]!.type);
  }
  left.exchangeKeyTypes = types;
  right.exchangeKeyTypes = types;
  if (input.condition !== undefined) {
    left.exchangeKeys = keys.leftKeys;
    right.exchangeKeys = keys.rightKeys;
  }
}

/** Check the keys of an exchange over its parent fragment's output (they are evaluated on the map side). */
async function bindExchange(
  connection: DuckDBConnection,
  exchange: GraphNode,
  parent: RelationalFragment,
): Promise<void> {
  const spec = exchangeSpecOf(exchange);
  if (!spec || !parent.bound) return;
  if (spec.mode === 'single' || spec.mode === 'hashAll' || spec.mode === 'roundRobin') return;
  if (spec.mode === 'broadcast' || spec.mode === 'rows') return;
  // A join on a condition: its keys are found when the join binds (bindJoinFragment).
  if (spec.mode === 'hash' && spec.keys.length === 0) return;
  const keys = spec.mode === 'hash' ? spec.keys : spec.orders.map((o) => sortOrderOf(o).expr);
  await createInput(connection, parent.bound.input);
  const keySql = `SELECT ${keys.map(columnSql).join(', ')} FROM (${parent.bound.sql})`;
  let keyFields: StructType;
  try {
    keyFields = await describe(connection, keySql);
  } catch (error) {
    throw new AnalysisError(
      `${String(exchange.options.for ?? exchange.op)}: ${duckMessage(error)}\n  over columns: ${parent.bound.output.fields.map((f) => f.name).join(', ')}`,
    );
  }
  if (spec.mode === 'range' && parent.input.kind === 'scan' && parent.input.format === 'parquet') {
    // The sort's sampling job reads only what its keys need (Spark's column pruning of the sample).
    parent.bound = {
      ...parent.bound,
      sampleColumns: await columnsRead(connection, parent.bound.input, keySql, keyFields),
    };
  }
}

/** True when the graph has DataFrame nodes (the driver binds only then). */
export function hasDataFrames(graph: JobGraph): boolean {
  return graph.nodes.some((n) => n.impl.type === 'relational');
}

/**
 * Bind every relational node of `graph` in construction order (an exchange's input before its
 * reader); throws AnalysisError for the first operator that does not bind.
 */
export async function bindDataFrames(
  graph: JobGraph,
  sampleScan: ScanSampler,
  memoryLimitBytes = 256 * 1024 * 1024,
  partitionsOf: PartitionDiscovery = () => [],
): Promise<void> {
  await withSession({ memoryLimitBytes }, async (connection) => {
    for (const node of graph.nodes) {
      if (node.impl.type === 'shuffled') {
        const parent = graph.node(node.parents[0]!);
        if (parent.impl.type === 'relational') await bindExchange(connection, node, parent.impl.fragment);
        continue;
      }
      if (node.impl.type !== 'relational') continue;
      const fragment = node.impl.fragment;
      if (fragment.input.kind === 'join' || fragment.input.kind === 'union') {
        await bindJoinFragment(connection, graph, node);
        continue;
      }
      let schema = await inputSchema(connection, graph, node, fragment, sampleScan);
      if (fragment.input.kind === 'scan') {
        // Spark appends the partition columns a file does not hold itself, in folder order.
        const have = new Set(schema.fields.map((f) => f.name.toLowerCase()));
        const extra = partitionsOf(node.id).filter((c) => !have.has(c.name.toLowerCase()));
        if (extra.length > 0) {
          fragment.partitionColumns = extra;
          schema = { fields: [...schema.fields, ...extra.map((c) => ({ ...c, nullable: true }))] };
        }
      }
      await bindFragment(connection, graph, fragment, schema);
      if (fragment.input.kind === 'scan' && fragment.input.format === 'parquet' && fragment.bound) {
        fragment.bound = { ...fragment.bound, readColumns: await readColumns(connection, fragment.bound) };
      }
    }
  });
}

/**
 * The input columns a bound fragment's query reads: a column is read when the query does not
 * bind without it, or binds to other output columns (a `SELECT *` passes it on). Parquet tasks
 * fetch only these columns' chunks, as Spark's Parquet reader asks for the required schema.
 */
async function readColumns(
  connection: DuckDBConnection,
  bound: NonNullable<RelationalFragment['bound']>,
): Promise<string[]> {
  return columnsRead(connection, bound.input, bound.sql, bound.output);
}

/** The columns of `input` that query `sql` (returning `output`) reads, as readColumns finds them. */
async function columnsRead(
  connection: DuckDBConnection,
  input: StructType,
  sql: string,
  output: StructType,
): Promise<string[]> {
  const wanted = JSON.stringify(output.fields.map((f) => [f.name, f.type]));
  const read: string[] = [];
  for (const column of input.fields) {
    await createInput(connection, { fields: input.fields.filter((f) => f !== column) });
    let same = false;
    try {
      const without = await describe(connection, sql);
      same = JSON.stringify(without.fields.map((f) => [f.name, f.type])) === wanted;
    } catch {
      // Does not bind without the column: the query reads it.
    }
    if (!same) read.push(column.name);
  }
  // Leave the input as the next binding expects it.
  await createInput(connection, input);
  return read;
}

async function inputSchema(
  connection: DuckDBConnection,
  graph: JobGraph,
  node: GraphNode,
  fragment: RelationalFragment,
  sampleScan: ScanSampler,
): Promise<StructType> {
  const input = fragment.input;
  if (input.kind === 'local' || input.kind === 'records') return input.schema;
  if (input.kind === 'join' || input.kind === 'union')
    throw new Error('internal: joins and unions are bound by bindJoinFragment');
  if (input.kind === 'exchange') {
    const exchange = graph.node(node.parents[0]!);
    const upstream = graph.node(exchange.parents[0]!);
    if (upstream.impl.type !== 'relational' || !upstream.impl.fragment.bound) {
      throw new Error(`internal: the input of relational node ${node.id} is not bound`);
    }
    return upstream.impl.fragment.bound.output;
  }
  if (input.schema) return input.schema;
  const path = await sampleScan(node.id, input);
  if (typeof path === 'object') return path;
  if (path === undefined) {
    throw new AnalysisError(
      `read.${input.format}(${input.uri}): the input has no data to read a schema from; give the schema (read.${input.format}(path, { schema }))`,
    );
  }
  try {
    return await fileSchema(connection, path, input);
  } catch (error) {
    throw new AnalysisError(
      `read.${input.format}(${input.uri}): cannot read the schema of ${path}: ${duckMessage(error)}`,
    );
  }
}

/** The fields of a schema, for messages: `id: BIGINT, name: VARCHAR`. */
export function fieldsText(fields: readonly StructField[]): string {
  return fields.map((f) => `${f.name}: ${f.type}`).join(', ');
}
