/**
 * The DuckDB SQL of a fragment's operators. Each operator wraps the query before it as a
 * subquery, starting from the fragment's input relation `__input`; the driver's binder calls
 * `operatorSql` one operator at a time with the schema DuckDB found for the query so far, so
 * Spark's name-dependent rules (withColumn replaces a column in place, withColumnRenamed and
 * drop of a missing column do nothing) are decided on the driver and the SQL a task runs is
 * final. DuckDB then prunes columns and pushes filters down into the scan of each task.
 */
import { ConfigError } from '../../contract/errors.js';
import { type ColumnNode, columnName, columnSql, sortSql } from './column.js';
import type { AggregateCall, FragmentOp, JoinType } from './fragment.js';
import { fieldOf, quoteIdent, type StructType } from './types.js';

/** The relation a fragment's query reads: the task defines it over its input files or segments. */
export const INPUT_RELATION = '__input';

/** The query of a fragment before its first operator. */
export const INPUT_QUERY = `SELECT * FROM ${INPUT_RELATION}`;

function selectItem(node: ColumnNode): string {
  if (node.k === 'col' && node.name === '*') return '*';
  if (node.k === 'col') return quoteIdent(node.name);
  return `${columnSql(node)} AS ${quoteIdent(columnName(node))}`;
}

function groupBy(keys: number): string {
  return keys === 0 ? '' : ` GROUP BY ${Array.from({ length: keys }, (_, i) => i + 1).join(', ')}`;
}

/** Partial column names of call `i` of a split aggregation. */
function partialNames(i: number): { sum: string; count: string; value: string } {
  return { sum: `__agg${i}_sum`, count: `__agg${i}_count`, value: `__agg${i}` };
}

function partialItems(call: AggregateCall, i: number): string[] {
  const arg = call.arg === '*' ? '*' : columnSql(call.arg);
  const names = partialNames(i);
  switch (call.fn) {
    case 'sum':
      return [`sum(${arg}) AS ${quoteIdent(names.value)}`];
    case 'count':
      return [`count(${arg}) AS ${quoteIdent(names.value)}`];
    case 'avg':
      return [
        `sum(CAST(${arg} AS DOUBLE)) AS ${quoteIdent(names.sum)}`,
        `count(${arg}) AS ${quoteIdent(names.count)}`,
      ];
    case 'min':
    case 'max':
      return [`${call.fn}(${arg}) AS ${quoteIdent(names.value)}`];
  }
}

function finalItem(call: AggregateCall, i: number): string {
  const names = partialNames(i);
  const v = quoteIdent(names.value);
  const out = quoteIdent(call.name);
  switch (call.fn) {
    case 'sum':
      return `sum(${v}) AS ${out}`;
    case 'count':
      return `CAST(coalesce(sum(${v}), 0) AS BIGINT) AS ${out}`;
    case 'avg':
      return `sum(${quoteIdent(names.sum)}) / NULLIF(sum(${quoteIdent(names.count)}), 0) AS ${out}`;
    case 'min':
    case 'max':
      return `${call.fn}(${v}) AS ${out}`;
  }
}

/** The query of `op` applied to the query `previous`, whose columns are `input`. */
export function operatorSql(op: FragmentOp, previous: string, input: StructType): string {
  const from = `FROM (${previous})`;
  switch (op.op) {
    case 'select':
      return `SELECT ${op.columns.map(selectItem).join(', ')} ${from}`;
    case 'filter':
      return `SELECT * ${from} WHERE ${columnSql(op.condition)}`;
    case 'withColumn': {
      const existing = fieldOf(input, op.name);
      const value = columnSql(op.column);
      return existing
        ? `SELECT * REPLACE (${value} AS ${quoteIdent(existing.name)}) ${from}`
        : `SELECT *, ${value} AS ${quoteIdent(op.name)} ${from}`;
    }
    case 'withColumnRenamed': {
      const existing = fieldOf(input, op.from);
      if (!existing) return previous; // Spark: a no-op when the column does not exist
      return `SELECT * RENAME (${quoteIdent(existing.name)} AS ${quoteIdent(op.to)}) ${from}`;
    }
    case 'drop': {
      const present = [
        ...new Set(op.names.map((n) => fieldOf(input, n)?.name).filter((n) => n !== undefined)),
      ];
      if (present.length === 0) return previous; // Spark: dropping a missing column does nothing
      if (present.length === input.fields.length) {
        throw new ConfigError(`${op.label}: dropping every column leaves a DataFrame with no columns`);
      }
      return `SELECT * EXCLUDE (${present.map(quoteIdent).join(', ')}) ${from}`;
    }
    case 'partialAggregate': {
      const items = [...op.keys.map(selectItem), ...op.calls.flatMap(partialItems)];
      return `SELECT ${items.join(', ')} ${from}${groupBy(op.keys.length)}`;
    }
    case 'finalAggregate': {
      const items = [...op.keyNames.map(quoteIdent), ...op.calls.map(finalItem)];
      return `SELECT ${items.join(', ')} ${from}${groupBy(op.keyNames.length)}`;
    }
    case 'aggregate': {
      const items = [...op.keys.map(selectItem), ...op.columns.map(selectItem)];
      return `SELECT ${items.join(', ')} ${from}${groupBy(op.keys.length)}`;
    }
    case 'sort':
      return `SELECT * ${from} ORDER BY ${op.orders.map(sortSql).join(', ')}`;
    case 'limit':
      return `SELECT * ${from} LIMIT ${op.n}`;
    case 'distinct':
      return `SELECT DISTINCT * ${from}`;
    case 'dropDuplicates': {
      const names = op.names.map((n) => {
        const field = fieldOf(input, n);
        if (!field) {
          throw new ConfigError(
            `${op.label}: cannot resolve column name ${JSON.stringify(n)} among (${input.fields.map((f) => f.name).join(', ')})`,
          );
        }
        return quoteIdent(field.name);
      });
      // PARTITION BY groups nulls together, as Spark's dropDuplicates treats null keys as equal.
      return `SELECT * ${from} QUALIFY row_number() OVER (PARTITION BY ${[...new Set(names)].join(', ')}) = 1`;
    }
    case 'broadcastJoin':
      throw new Error(
        'internal: a broadcast join needs its broadcast side schema (the binder builds its SQL)',
      );
  }
}

/** The relations a join fragment reads: the left and the right exchange. */
export const LEFT_RELATION = '__left';
export const RIGHT_RELATION = '__right';

/**
 * The query of an equi-join on the columns `on`, as Spark's `join(other, on, how)`: the join
 * columns once (from the left, the right for a right join, coalesced for a full join), then the
 * left's other columns, then the right's; semi and anti joins return the left's columns only.
 * Null keys never match.
 */
export function joinSql(
  how: JoinType,
  on: readonly string[],
  left: StructType,
  right: StructType,
  label: string,
): string {
  const l = LEFT_RELATION;
  const r = RIGHT_RELATION;
  const pairs = on.map((name) => {
    const a = fieldOf(left, name);
    const b = fieldOf(right, name);
    if (!a || !b) {
      const side = a ? 'right' : 'left';
      const names = (a ? right : left).fields.map((f) => f.name).join(', ');
      throw new ConfigError(
        `${label}: join column ${JSON.stringify(name)} does not exist on the ${side} side (columns: ${names})`,
      );
    }
    return { name: a.name, left: `${l}.${quoteIdent(a.name)}`, right: `${r}.${quoteIdent(b.name)}` };
  });
  const condition = pairs.map((p) => `${p.left} = ${p.right}`).join(' AND ');
  if (how === 'semi' || how === 'anti')
    return `SELECT ${l}.* FROM ${l} ${how.toUpperCase()} JOIN ${r} ON ${condition}`;
  const keyNames = new Set(pairs.map((p) => p.name.toLowerCase()));
  const keys = pairs.map((p) => {
    const value = how === 'right' ? p.right : how === 'full' ? `coalesce(${p.left}, ${p.right})` : p.left;
    return `${value} AS ${quoteIdent(p.name)}`;
  });
  const rest = (schema: StructType, relation: string) =>
    schema.fields
      .filter((f) => !keyNames.has(f.name.toLowerCase()))
      .map((f) => `${relation}.${quoteIdent(f.name)}`);
  const items = [...keys, ...rest(left, l), ...rest(right, r)];
  const type = { inner: 'INNER', left: 'LEFT', right: 'RIGHT', full: 'FULL' }[how];
  return `SELECT ${items.join(', ')} FROM ${l} ${type} JOIN ${r} ON ${condition}`;
}

/** `query` with some columns cast (the binder turns DuckDB's HUGEINT sums into Spark's long). */
export function castColumnsSql(query: string, casts: readonly { name: string; type: string }[]): string {
  if (casts.length === 0) return query;
  const items = casts.map((c) => `CAST(${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}`);
  return `SELECT * REPLACE (${items.join(', ')}) FROM (${query})`;
}

/**
 * The query of a union of `__left` and `__right` (Spark's UNION ALL: duplicates kept): by position
 * with the left's names (`union`), or by name (`unionByName`), where a column on one side only is
 * an error unless `allowMissingColumns`, which fills it with nulls. Columns are widened to a
 * common type, as Spark does.
 */
export function unionSql(
  byName: boolean,
  allowMissingColumns: boolean,
  left: StructType,
  right: StructType,
  label: string,
): string {
  const names = (schema: StructType) => schema.fields.map((f) => f.name).join(', ');
  if (!byName) {
    if (left.fields.length !== right.fields.length) {
      throw new ConfigError(
        `${label}: union needs the same number of columns on both sides (union is by position): the left has ${left.fields.length} (${names(left)}), the right ${right.fields.length} (${names(right)})`,
      );
    }
    return `SELECT * FROM ${LEFT_RELATION} UNION ALL SELECT * FROM ${RIGHT_RELATION}`;
  }
  if (!allowMissingColumns) {
    const missing = (a: StructType, b: StructType) =>
      a.fields.filter((f) => !fieldOf(b, f.name)).map((f) => f.name);
    const onlyLeft = missing(left, right);
    const onlyRight = missing(right, left);
    if (onlyLeft.length > 0 || onlyRight.length > 0) {
      const side = onlyLeft.length > 0 ? `${onlyLeft.join(', ')} only on the left` : '';
      const other = onlyRight.length > 0 ? `${onlyRight.join(', ')} only on the right` : '';
      throw new ConfigError(
        `${label}: unionByName needs the same column names on both sides: ${[side, other].filter(Boolean).join('; ')} (pass allowMissingColumns to fill them with nulls)`,
      );
    }
  }
  return `SELECT * FROM ${LEFT_RELATION} UNION ALL BY NAME SELECT * FROM ${RIGHT_RELATION}`;
}
