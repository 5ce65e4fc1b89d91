/**
 * Joins beyond same-named columns (Spark's `join(other, condition, how)`) and broadcast joins.
 *
 * - Which DataFrame a column of a condition belongs to: `df.col('k')` carries a qualifier naming
 *   its DataFrame, `col('a.k')` names a side aliased `a` (`df.alias('a')`), and a plain `col('k')`
 *   belongs to the one side that has it (on both: ambiguous, as in Spark).
 * - The equality conjuncts of the condition between an expression of each side become the hash
 *   exchange keys of a shuffled join; the whole condition is the join's ON clause in each task.
 * - A side is broadcast when hinted (`broadcast(df)`) or when its estimated size (local rows by
 *   Spark's type widths, a file scan by what the driver's listing found) is at most
 *   `spark.sql.autoBroadcastJoinThreshold`, and only where Spark can build it: the right side of
 *   inner, left, semi and anti joins, the left side of inner and right joins.
 * Everything here is pure: the planner decides broadcasts, the driver's binder resolves the
 * condition against both sides' schemas and gets the SQL from joinQuery.
 */
import { ConfigError } from '../../contract/errors.js';
import type { GraphBuilder } from '../dataset/graph-builder.js';
import { type ColumnNode, columnSql } from './column.js';
import type { JoinSpec, JoinType } from './fragment.js';
import type { LogicalPlan } from './logical-plan.js';
import { fieldOf, quoteIdent, type StructType } from './types.js';

/** The relation names of a join's sides inside its query. */
export const LEFT_SIDE = '__left';
export const RIGHT_SIDE = '__right';

const generated = new WeakMap<LogicalPlan, string>();
const counters = new WeakMap<GraphBuilder, number>();

/**
 * The qualifier of `df.col(name)` columns: the DataFrame's alias, else a name made for its plan
 * (`#3`, in construction order, so the driver's graph is the same every time the builder runs).
 */
export function qualifierOf(builder: GraphBuilder, plan: LogicalPlan): string {
  if (plan.kind === 'alias') return plan.name;
  let name = generated.get(plan);
  if (name === undefined) {
    const n = counters.get(builder) ?? 0;
    counters.set(builder, n + 1);
    name = `#${n}`;
    generated.set(plan, name);
  }
  return name;
}

/** Every qualifier a side's columns may carry: aliases and made names anywhere in its plan. */
export function qualifiersIn(plan: LogicalPlan): string[] {
  const out = new Set<string>();
  const visit = (p: LogicalPlan) => {
    if (p.kind === 'alias') out.add(p.name);
    const made = generated.get(p);
    if (made !== undefined) out.add(made);
    if (p.kind === 'join' || p.kind === 'union') {
      visit(p.left);
      visit(p.right);
    } else if (p.kind !== 'source') visit(p.child);
  };
  visit(plan);
  return [...out];
}

/** The user's alias of a join side (`df.alias('a')`, maybe under a broadcast hint), if any. */
export function userAliasOf(plan: LogicalPlan): string | undefined {
  if (plan.kind === 'alias') return plan.name;
  if (plan.kind === 'broadcast') return userAliasOf(plan.child);
  return undefined;
}

/** Operators that keep a broadcast hint of their input visible to a join above them. */
function hinted(plan: LogicalPlan): boolean {
  switch (plan.kind) {
    case 'broadcast':
      return true;
    case 'alias':
    case 'select':
    case 'filter':
    case 'withColumn':
    case 'withColumnRenamed':
    case 'drop':
      return hinted(plan.child);
    default:
      return false;
  }
}

/** Spark's default size of a value of a DuckDB type (bytes), for size estimates of local rows. */
function typeWidth(type: string): number {
  const t = type.toUpperCase();
  if (t === 'BOOLEAN' || t === 'TINYINT') return 1;
  if (t === 'SMALLINT') return 2;
  if (t === 'INTEGER' || t === 'FLOAT' || t === 'DATE') return 4;
  if (t === 'VARCHAR' || t === 'BLOB') return 20;
  if (t.startsWith('DECIMAL')) return 16;
  return 8;
}

/** The estimated bytes of a file scan, once the driver has listed it (scan-sizes.ts); undefined before. */
export type ScanSizeLookup = (input: Extract<LogicalPlan, { kind: 'source' }>['input']) => number | undefined;

/**
 * The estimated size of a plan's output in bytes (Spark's sizeInBytes without statistics): local
 * rows count × row width; a file scan what the driver's listing found (`scanSize`: undefined
 * before the listing); a narrow operator, an aggregation or a sort keeps its input's; a join
 * multiplies (semi and anti keep the left); a union adds. Undefined when unknown.
 */
export function estimatedSizeBytes(
  plan: LogicalPlan,
  scanSize: ScanSizeLookup = () => undefined,
): number | undefined {
  switch (plan.kind) {
    case 'source':
      if (plan.input.kind !== 'local') return scanSize(plan.input);
      return plan.input.rows.length * plan.input.schema.fields.reduce((n, f) => n + typeWidth(f.type), 8);
    case 'join': {
      const left = estimatedSizeBytes(plan.left, scanSize);
      if (plan.how === 'semi' || plan.how === 'anti') return left;
      const right = estimatedSizeBytes(plan.right, scanSize);
      return left === undefined || right === undefined ? undefined : left * right;
    }
    case 'union': {
      const left = estimatedSizeBytes(plan.left, scanSize);
      const right = estimatedSizeBytes(plan.right, scanSize);
      return left === undefined || right === undefined ? undefined : left + right;
    }
    default:
      return estimatedSizeBytes(plan.child, scanSize);
  }
}

/** Which side of a join a task builds once and every task of the other side reads (Spark's BuildSide). */
export type BroadcastSide = 'left' | 'right';

/** A join's broadcast choice: the side, why, and its size estimate when one is known. */
export interface BroadcastChoice {
  readonly side: BroadcastSide;
  /** `hint`: broadcast(df); `size`: the estimate is at most spark.sql.autoBroadcastJoinThreshold. */
  readonly reason: 'hint' | 'size';
  /** The side's estimated bytes (Spark's sizeInBytes), when known. */
  readonly estimatedBytes?: number;
}

function buildable(how: JoinType, side: BroadcastSide): boolean {
  if (side === 'right') return how === 'inner' || how === 'left' || how === 'semi' || how === 'anti';
  return how === 'inner' || how === 'right';
}

/**
 * The side to broadcast (Spark's JoinSelection): a hinted side it can build, else a side whose
 * estimate is at most `threshold` bytes (-1: never); the smaller when both qualify. Undefined: a
 * shuffled join. A full outer join is never broadcast (Spark plans it as a sort-merge join too),
 * nor the preserved side of a left or right join.
 */
export function broadcastSideOf(
  how: JoinType,
  left: LogicalPlan,
  right: LogicalPlan,
  threshold: number,
  scanSize: ScanSizeLookup = () => undefined,
): BroadcastChoice | undefined {
  const l = estimatedSizeBytes(left, scanSize);
  const r = estimatedSizeBytes(right, scanSize);
  const choice = (side: BroadcastSide, reason: 'hint' | 'size'): BroadcastChoice => {
    const bytes = side === 'left' ? l : r;
    return { side, reason, ...(bytes !== undefined ? { estimatedBytes: bytes } : {}) };
  };
  const pick = (sides: BroadcastSide[], reason: 'hint' | 'size'): BroadcastChoice | undefined => {
    const ok = sides.filter((s) => buildable(how, s));
    if (ok.length === 0) return undefined;
    if (ok.length === 1) return choice(ok[0]!, reason);
    return choice(
      (l ?? Number.POSITIVE_INFINITY) < (r ?? Number.POSITIVE_INFINITY) ? 'left' : 'right',
      reason,
    );
  };
  const hintedSides: BroadcastSide[] = [];
  if (hinted(left)) hintedSides.push('left');
  if (hinted(right)) hintedSides.push('right');
  const byHint = pick(hintedSides, 'hint');
  if (byHint || threshold < 0) return byHint;
  const small: BroadcastSide[] = [];
  if (l !== undefined && l <= threshold) small.push('left');
  if (r !== undefined && r <= threshold) small.push('right');
  return pick(small, 'size');
}

/** Spark's size settings: a number of bytes, or text such as `10485760`, `10m`, `10MB`, `1g`, `-1`. */
export function parseByteSize(value: string | number, key: string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -1) return value;
  } else {
    const m = /^\s*(-1|\d+)\s*(b|k|kb|m|mb|g|gb)?\s*$/i.exec(value);
    if (m) {
      const unit = (m[2] ?? 'b').toLowerCase()[0]!;
      const scale = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] ?? 1;
      return m[1] === '-1' ? -1 : Number(m[1]) * scale;
    }
  }
  throw new ConfigError(
    `conf.set: ${key} must be a number of bytes (e.g. 10485760, '10m', '10MB') or -1 to disable, got ${JSON.stringify(value)}`,
  );
}

/** What a join's condition resolved to against both sides' schemas. */
export interface ResolvedJoin {
  /** The join's query; its sides are `leftFrom` / `rightFrom` given to joinQuery, known inside as __left / __right. */
  readonly sql: string;
  /** Hash keys of each side (same length; evaluated over that side's own columns). */
  readonly leftKeys: readonly ColumnNode[];
  readonly rightKeys: readonly ColumnNode[];
}

type Side = 'left' | 'right';

interface ResolveContext {
  readonly spec: JoinSpec;
  readonly left: StructType;
  readonly right: StructType;
  readonly label: string;
}

/** The side and real name of one column of a condition; throws a ConfigError naming the call. */
function resolveColumn(
  node: Extract<ColumnNode, { k: 'col' }>,
  ctx: ResolveContext,
): { side: Side; name: string } {
  const lq = ctx.spec.leftQualifiers ?? [];
  const rq = ctx.spec.rightQualifiers ?? [];
  let qualifier = node.qualifier;
  let name = node.name;
  const dot = name.indexOf('.');
  if (qualifier === undefined && dot > 0) {
    const prefix = name.slice(0, dot);
    if (lq.includes(prefix) || rq.includes(prefix)) {
      qualifier = prefix;
      name = name.slice(dot + 1);
    }
  }
  const has = (side: Side) => fieldOf(side === 'left' ? ctx.left : ctx.right, name);
  const names = (side: Side) => (side === 'left' ? ctx.left : ctx.right).fields.map((f) => f.name).join(', ');
  let side: Side;
  if (qualifier !== undefined) {
    const inLeft = lq.includes(qualifier);
    const inRight = rq.includes(qualifier);
    if (inLeft && inRight)
      throw new ConfigError(
        `${ctx.label}: column ${name} of the join condition is ambiguous: the same DataFrame is on both sides (alias each side: df.alias('a').join(df.alias('b'), col('a.${name}').equalTo(col('b.${name}'))))`,
      );
    if (!inLeft && !inRight)
      throw new ConfigError(
        `${ctx.label}: column ${name} of the join condition comes from a DataFrame that is not a side of this join`,
      );
    side = inLeft ? 'left' : 'right';
  } else {
    const inLeft = has('left') !== undefined;
    const inRight = has('right') !== undefined;
    if (inLeft && inRight)
      throw new ConfigError(
        `${ctx.label}: column ${name} of the join condition is ambiguous: both sides have it (use left.col('${name}') / right.col('${name}'), or aliases: col('a.${name}'))`,
      );
    if (!inLeft && !inRight)
      throw new ConfigError(
        `${ctx.label}: cannot resolve column ${name} of the join condition (left: ${names('left')}; right: ${names('right')})`,
      );
    side = inLeft ? 'left' : 'right';
  }
  const field = has(side);
  if (!field)
    throw new ConfigError(
      `${ctx.label}: column ${name} of the join condition does not exist on the ${side} side (columns: ${names(side)})`,
    );
  return { side, name: field.name };
}

/** The condition with every column resolved: its SQL over __left / __right, and each column's side. */
function rewrite(
  node: ColumnNode,
  ctx: ResolveContext,
  sides: Set<Side | 'opaque'>,
  plain: boolean,
): ColumnNode {
  switch (node.k) {
    case 'col': {
      if (node.name === '*') throw new ConfigError(`${ctx.label}: * cannot be part of a join condition`);
      const { side, name } = resolveColumn(node, ctx);
      sides.add(side);
      if (plain) return { k: 'col', name };
      return { k: 'sql', text: `${side === 'left' ? LEFT_SIDE : RIGHT_SIDE}.${quoteIdent(name)}` };
    }
    case 'sql':
      sides.add('opaque'); // expression text: its columns are DuckDB's to resolve
      return node;
    case 'lit':
      return node;
    case 'binary':
      return {
        ...node,
        left: rewrite(node.left, ctx, sides, plain),
        right: rewrite(node.right, ctx, sides, plain),
      };
    case 'call':
      return { ...node, args: node.args.map((a) => rewrite(a, ctx, sides, plain)) };
    case 'unary':
    case 'cast':
    case 'alias':
    case 'sort':
      return { ...node, child: rewrite(node.child, ctx, sides, plain) };
    case 'agg':
    case 'window':
      throw new ConfigError(`${ctx.label}: a join condition cannot hold an aggregate or a window function`);
  }
}

function conjuncts(node: ColumnNode): ColumnNode[] {
  if (node.k === 'binary' && node.op === 'AND') return [...conjuncts(node.left), ...conjuncts(node.right)];
  return [node];
}

/** The hash keys of a condition: its `=` / `<=>` conjuncts with one side's columns on each side. */
function equalityKeys(
  condition: ColumnNode,
  ctx: ResolveContext,
): { left: ColumnNode[]; right: ColumnNode[] } {
  const left: ColumnNode[] = [];
  const right: ColumnNode[] = [];
  for (const c of conjuncts(condition)) {
    if (c.k !== 'binary' || (c.op !== '=' && c.op !== '<=>')) continue;
    const a = new Set<Side | 'opaque'>();
    const b = new Set<Side | 'opaque'>();
    const x = rewrite(c.left, ctx, a, true);
    const y = rewrite(c.right, ctx, b, true);
    const only = (s: Set<Side | 'opaque'>) => (s.size === 1 && !s.has('opaque') ? [...s][0] : undefined);
    const sa = only(a);
    const sb = only(b);
    if (sa === 'left' && sb === 'right') {
      left.push(x);
      right.push(y);
    } else if (sa === 'right' && sb === 'left') {
      left.push(y);
      right.push(x);
    }
  }
  return { left, right };
}

const SQL_JOIN: Readonly<Record<JoinType, string>> = {
  inner: 'INNER',
  left: 'LEFT',
  right: 'RIGHT',
  full: 'FULL',
  semi: 'SEMI',
  anti: 'ANTI',
};

/**
 * The query of a join and its hash keys. `leftFrom` / `rightFrom` are the sides' FROM items, which
 * must be named __left / __right (`__left` itself, or `(subquery) AS __left`). Using columns
 * (`join(other, 'k')`): the columns once, then the left's others, then the right's. A condition:
 * every column of the left, then of the right (semi / anti: the left's only). A name on both sides
 * (other than a using column) is qualified by the side's alias when it has one (`a.k`, `b.k`),
 * else the right's copy becomes `k_right` (Spark keeps both under one name, which a row object cannot hold).
 */
export function joinQuery(
  spec: JoinSpec,
  left: StructType,
  right: StructType,
  label: string,
  leftFrom: string = LEFT_SIDE,
  rightFrom: string = RIGHT_SIDE,
): ResolvedJoin {
  const ctx: ResolveContext = { spec, left, right, label };
  const l = LEFT_SIDE;
  const r = RIGHT_SIDE;
  const from = (condition: string) =>
    `FROM ${leftFrom} ${SQL_JOIN[spec.how]} JOIN ${rightFrom} ON ${condition}`;
  const using = new Set<string>();
  let condition: string;
  let keys: { left: ColumnNode[]; right: ColumnNode[] };
  let keyItems: string[] = [];
  if (spec.condition === undefined) {
    const pairs = spec.on.map((name) => {
      const a = fieldOf(left, name);
      const b = fieldOf(right, name);
      if (!a || !b) {
        const side = a ? 'right' : 'left';
        const names = (a ? right : left).fields.map((f) => f.name).join(', ');
        throw new ConfigError(
          `${label}: join column ${JSON.stringify(name)} does not exist on the ${side} side (columns: ${names})`,
        );
      }
      return { a: a.name, b: b.name };
    });
    condition = pairs.map((p) => `${l}.${quoteIdent(p.a)} = ${r}.${quoteIdent(p.b)}`).join(' AND ');
    keys = {
      left: pairs.map((p): ColumnNode => ({ k: 'col', name: p.a })),
      right: pairs.map((p): ColumnNode => ({ k: 'col', name: p.b })),
    };
    for (const p of pairs) using.add(p.a.toLowerCase());
    keyItems = pairs.map((p) => {
      const lv = `${l}.${quoteIdent(p.a)}`;
      const rv = `${r}.${quoteIdent(p.b)}`;
      const value = spec.how === 'right' ? rv : spec.how === 'full' ? `coalesce(${lv}, ${rv})` : lv;
      return `${value} AS ${quoteIdent(p.a)}`;
    });
  } else {
    condition = columnSql(rewrite(spec.condition, ctx, new Set(), false));
    keys = equalityKeys(spec.condition, ctx);
  }
  if (spec.how === 'semi' || spec.how === 'anti')
    return { sql: `SELECT ${l}.* ${from(condition)}`, leftKeys: keys.left, rightKeys: keys.right };
  const rest = (schema: StructType) => schema.fields.filter((f) => !using.has(f.name.toLowerCase()));
  const leftRest = rest(left);
  const rightRest = rest(right);
  const shared = new Set(
    leftRest
      .map((f) => f.name.toLowerCase())
      .filter((n) => rightRest.some((f) => f.name.toLowerCase() === n)),
  );
  if (spec.distinctColumns === true && shared.size > 0) {
    const both = leftRest.filter((f) => shared.has(f.name.toLowerCase())).map((f) => f.name);
    throw new ConfigError(
      `${label}: column ${both.join(', ')} is on both sides of the join; select it under another name on one side (a subquery such as (SELECT ${both[0]} AS other_${both[0]}, … FROM t) t), or join USING it`,
    );
  }
  const item = (relation: string, name: string, side: Side) => {
    let out = name;
    if (shared.has(name.toLowerCase())) {
      const alias = side === 'left' ? spec.leftAlias : spec.rightAlias;
      out = alias !== undefined ? `${alias}.${name}` : side === 'left' ? name : `${name}_right`;
    }
    return `${relation}.${quoteIdent(name)} AS ${quoteIdent(out)}`;
  };
  const items = [
    ...keyItems,
    ...leftRest.map((f) => item(l, f.name, 'left')),
    ...rightRest.map((f) => item(r, f.name, 'right')),
  ];
  return { sql: `SELECT ${items.join(', ')} ${from(condition)}`, leftKeys: keys.left, rightKeys: keys.right };
}
