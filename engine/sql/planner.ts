/**
 * Physical planning of a DataFrame (Spark's planner, reduced to what stages need): the logical
 * plan is lowered into job-graph nodes when an action is taken. Narrow operators (select,
 * filter, withColumn, …) are pipelined into one relational fragment; an aggregation, a sort or
 * a global limit ends the fragment at an **exchange** — a `shuffled` graph node, so the
 * engine's stage splitter cuts stages there as it does for datasets:
 *
 * - groupBy/agg: a partial aggregation in the map-side fragment, a hash exchange on the group
 *   keys, the final aggregation after it (avg travels as sum + count). Aggregates that cannot be
 *   split (countDistinct, aggregates inside `expr` text) exchange the rows and aggregate once.
 *   Without keys the exchange has one partition.
 * - orderBy: a range exchange whose bounds come from a sampling job (as the RDD sort), then a
 *   sort within each partition; partitions are in range order.
 * - limit: a local limit, a single-partition exchange, the global limit; after an orderBy the
 *   map side keeps its own top n (Spark's TakeOrderedAndProject).
 * - distinct / dropDuplicates: duplicates dropped in the map task, a hash exchange on the compared
 *   columns (every column for distinct), duplicates dropped again after it.
 * - repartition(n, cols): a hash exchange on the columns into n partitions; round-robin without.
 * - union / unionByName: each side dealt round-robin into the shuffle partitions, both read by
 *   one fragment (Spark needs no shuffle here; a stage reads one input, see docs/decisions.md).
 * A fragment known to have one partition needs no exchange. Exchanges are memoised per logical
 * operator, so two actions on one DataFrame share its shuffles (the second job skips them).
 */
import type { GraphBuilder } from '../dataset/graph-builder.js';
import { type ColumnNode, columnName, sortOrderOf } from './column.js';
import type { AggregateCall, ExchangeSpec, FragmentInput, FragmentOp, JoinSpec } from './fragment.js';
import { broadcastSideOf, qualifiersIn, userAliasOf } from './join-plan.js';
import type { LogicalPlan } from './logical-plan.js';
import { scanSizeOf } from './scan-sizes.js';
import { hasWindowColumn, windowExchange } from './window.js';

/** Spark's default spark.sql.autoBroadcastJoinThreshold: 10 MB. */
export const DEFAULT_BROADCAST_THRESHOLD = 10 * 1024 * 1024;

/** The key under which an exchange node keeps its ExchangeSpec (JSON) in its options. */
export const EXCHANGE_OPTION = 'exchange';
/** The key under which a relational node keeps its fragment's description (JSON) in its options. */
export const FRAGMENT_OPTION = 'fragment';

/** A fragment being built: its input, operators so far, and whether it has one partition. */
interface PendingFragment {
  readonly input: FragmentInput;
  /** The exchange nodes it reads (input kind 'exchange': one; 'join': left, right). */
  readonly parents: readonly number[];
  readonly ops: FragmentOp[];
  readonly single: boolean;
  /** Partitions asked for by a source. */
  readonly partitions?: number;
  /** coalesce(n) of the fragment's input partitions (the smallest n asked). */
  readonly coalesce?: number;
}

/** Per-builder planner state: the shuffle partition count and the memoised exchanges. */
export class DataFramePlanner {
  private readonly exchanges = new WeakMap<LogicalPlan, PendingFragment>();

  constructor(
    private readonly builder: GraphBuilder,
    /** Partitions of hash and range exchanges (Spark's spark.sql.shuffle.partitions). */
    private readonly shufflePartitions: () => number,
    /** Bytes under which a join side is broadcast (spark.sql.autoBroadcastJoinThreshold; -1: never). */
    private readonly broadcastThreshold: () => number = () => DEFAULT_BROADCAST_THRESHOLD,
  ) {}

  /** The graph node computing `plan`'s rows (a relational node), added now. */
  nodeOf(plan: LogicalPlan, op: string): number {
    return this.close(this.lower(plan), op);
  }

  private lower(plan: LogicalPlan): PendingFragment {
    switch (plan.kind) {
      case 'source':
        return {
          input: plan.input,
          parents: plan.input.kind === 'records' ? [plan.input.exchange] : [],
          ops: [],
          single: plan.input.kind === 'local' && plan.partitions === 1,
          ...(plan.input.kind !== 'records' ? { partitions: plan.partitions } : {}),
        };
      case 'select':
        if (hasWindowColumn(plan.columns)) return this.memoised(plan);
        return this.narrow(plan.child, { op: 'select', columns: plan.columns, label: plan.label });
      case 'filter':
        return this.narrow(plan.child, { op: 'filter', condition: plan.condition, label: plan.label });
      case 'withColumn':
        if (hasWindowColumn([plan.column])) return this.memoised(plan);
        return this.narrow(plan.child, {
          op: 'withColumn',
          name: plan.name,
          column: plan.column,
          label: plan.label,
        });
      case 'withColumnRenamed':
        return this.narrow(plan.child, {
          op: 'withColumnRenamed',
          from: plan.from,
          to: plan.to,
          label: plan.label,
        });
      case 'drop':
        return this.narrow(plan.child, { op: 'drop', names: plan.names, label: plan.label });
      case 'alias':
      case 'broadcast':
        // A name for qualified columns, a hint for the join above: no operator of their own.
        return this.lower(plan.child);
      case 'coalesce': {
        // Narrow: the fragment's tasks read ranges of its input's partitions. Every operator of a
        // fragment is right over any union of its input partitions (exchanges co-partition), so
        // the operators before the coalesce may run after the merge.
        const pending = this.lower(plan.child);
        if (pending.single) return pending;
        const n = Math.min(pending.coalesce ?? plan.n, plan.n);
        return { ...pending, coalesce: n, single: n === 1 };
      }
      default:
        return this.memoised(plan);
    }
  }

  private narrow(child: LogicalPlan, op: FragmentOp): PendingFragment {
    const pending = this.lower(child);
    pending.ops.push(op);
    return pending;
  }

  /** Lower an operator that may exchange, once per logical operator; callers get their own copy. */
  private memoised(plan: LogicalPlan): PendingFragment {
    let done = this.exchanges.get(plan);
    if (!done) {
      done = this.lowerWide(plan);
      this.exchanges.set(plan, done);
    }
    return { ...done, ops: [...done.ops] };
  }

  private lowerWide(plan: LogicalPlan): PendingFragment {
    if (plan.kind === 'aggregate') return this.aggregate(plan);
    if (plan.kind === 'join') return this.join(plan);
    if (plan.kind === 'distinct') return this.distinct(plan);
    if (plan.kind === 'union') return this.union(plan);
    if (plan.kind === 'select' || plan.kind === 'withColumn') return this.window(plan);
    if (plan.kind === 'repartition') {
      // Spark's repartition always shuffles, even a single partition into n.
      const spec: ExchangeSpec =
        plan.keys.length > 0 ? { mode: 'hash', keys: plan.keys } : { mode: 'roundRobin' };
      return this.exchange(this.lower(plan.child), spec, plan.n, plan.label);
    }
    if (plan.kind === 'sort') {
      const pending = this.lower(plan.child);
      const sort: FragmentOp = { op: 'sort', orders: plan.orders, label: plan.label };
      if (pending.single) return { ...pending, ops: [...pending.ops, sort] };
      const out = this.exchange(
        pending,
        { mode: 'range', orders: plan.orders },
        this.shufflePartitions(),
        plan.label,
      );
      out.ops.push(sort);
      return out;
    }
    if (plan.kind === 'limit') {
      const limit: FragmentOp = { op: 'limit', n: plan.n, label: plan.label };
      const child = plan.child;
      if (child.kind === 'sort') {
        // Top n: each map task sorts and keeps n, one task merges them.
        const pending = this.lower(child.child);
        const sort: FragmentOp = { op: 'sort', orders: child.orders, label: child.label };
        pending.ops.push(sort, limit);
        if (pending.single) return pending;
        const out = this.exchange(pending, { mode: 'single' }, 1, plan.label);
        out.ops.push(sort, limit);
        return out;
      }
      const pending = this.lower(child);
      pending.ops.push(limit);
      if (pending.single) return pending;
      const out = this.exchange(pending, { mode: 'single' }, 1, plan.label);
      out.ops.push(limit);
      return out;
    }
    throw new Error(`internal: ${plan.kind} is not a wide operator`);
  }

  /**
   * A join. With a side to broadcast (join-plan.ts decides: a hint, or a small estimate), that side
   * goes through a one-partition broadcast exchange and the other side is not exchanged at all: its
   * fragment goes on with the join, each task reading the whole broadcast side. Otherwise both
   * sides are hash-exchanged into the same partitions (a shuffled hash join) on the join columns,
   * or on a condition's equality keys, which the driver's binder finds (exchangeKeys).
   */
  private join(plan: Extract<LogicalPlan, { kind: 'join' }>): PendingFragment {
    const leftAlias = userAliasOf(plan.left);
    const rightAlias = userAliasOf(plan.right);
    const spec: JoinSpec = {
      how: plan.how,
      on: plan.on,
      ...(plan.condition
        ? {
            condition: plan.condition,
            leftQualifiers: qualifiersIn(plan.left),
            rightQualifiers: qualifiersIn(plan.right),
          }
        : {}),
      ...(leftAlias !== undefined ? { leftAlias } : {}),
      ...(rightAlias !== undefined ? { rightAlias } : {}),
      ...(plan.distinctColumns === true ? { distinctColumns: true } : {}),
    };
    const choice = broadcastSideOf(plan.how, plan.left, plan.right, this.broadcastThreshold(), (input) =>
      scanSizeOf(this.builder, input),
    );
    if (choice) {
      const side = choice.side;
      const small = this.lower(side === 'left' ? plan.left : plan.right);
      const broadcastSpec: ExchangeSpec = {
        mode: 'broadcast',
        reason: choice.reason,
        ...(choice.estimatedBytes !== undefined ? { estimatedBytes: choice.estimatedBytes } : {}),
      };
      const exchanged = this.exchange(small, broadcastSpec, 1, plan.label);
      const exchange = exchanged.parents[0]!;
      const stream = this.lower(side === 'left' ? plan.right : plan.left);
      return {
        ...stream,
        parents: [...stream.parents, exchange],
        ops: [
          ...stream.ops,
          {
            op: 'broadcastJoin',
            join: spec,
            stream: side === 'left' ? 'right' : 'left',
            exchange,
            label: plan.label,
          },
        ],
      };
    }
    const partitions = this.shufflePartitions();
    const keys = plan.on.map((name): ColumnNode => ({ k: 'col', name }));
    const left = this.exchange(this.lower(plan.left), { mode: 'hash', keys }, partitions, plan.label);
    const right = this.exchange(this.lower(plan.right), { mode: 'hash', keys }, partitions, plan.label);
    return {
      input: { kind: 'join', ...spec },
      parents: [...left.parents, ...right.parents],
      ops: [],
      single: partitions === 1,
    };
  }

  /**
   * A select or withColumn computing window columns: the rows are exchanged so that each window
   * partition is whole in one task (window.ts says on which keys), then the task computes the
   * windows. A fragment with one partition needs no exchange.
   */
  private window(plan: Extract<LogicalPlan, { kind: 'select' | 'withColumn' }>): PendingFragment {
    const columns = plan.kind === 'select' ? plan.columns : [plan.column];
    const op: FragmentOp =
      plan.kind === 'select'
        ? { op: 'select', columns: plan.columns, label: plan.label }
        : { op: 'withColumn', name: plan.name, column: plan.column, label: plan.label };
    const pending = this.lower(plan.child);
    if (pending.single) return { ...pending, ops: [...pending.ops, op] };
    const spec = windowExchange(columns);
    const partitions = spec.mode === 'hash' ? this.shufflePartitions() : 1;
    const out = this.exchange(pending, spec, partitions, plan.label);
    out.ops.push(op);
    return out;
  }

  /**
   * distinct / dropDuplicates: each map task drops its own duplicates, a hash exchange on the
   * compared columns (every column for distinct) brings equal rows together, and the reduce side
   * drops the rest (Spark plans both as an aggregation with a partial step).
   */
  private distinct(plan: Extract<LogicalPlan, { kind: 'distinct' }>): PendingFragment {
    const pending = this.lower(plan.child);
    const op: FragmentOp = plan.columns
      ? { op: 'dropDuplicates', names: plan.columns, label: plan.label }
      : { op: 'distinct', label: plan.label };
    pending.ops.push(op);
    if (pending.single) return pending;
    const spec: ExchangeSpec = plan.columns
      ? { mode: 'hash', keys: plan.columns.map((name): ColumnNode => ({ k: 'col', name })) }
      : { mode: 'hashAll' };
    const out = this.exchange(pending, spec, this.shufflePartitions(), plan.label);
    out.ops.push(op);
    return out;
  }

  /**
   * union / unionByName: both sides dealt round-robin into the shuffle partitions and read side by
   * side (`__left`, `__right`) by one fragment. Spark unions without a shuffle (the result has the
   * partitions of both sides); a stage here reads one kind of input, so each side pays an exchange.
   */
  private union(plan: Extract<LogicalPlan, { kind: 'union' }>): PendingFragment {
    const partitions = this.shufflePartitions();
    const spec: ExchangeSpec = { mode: 'roundRobin' };
    const left = this.exchange(this.lower(plan.left), spec, partitions, plan.label);
    const right = this.exchange(this.lower(plan.right), spec, partitions, plan.label);
    return {
      input: { kind: 'union', byName: plan.byName, allowMissingColumns: plan.allowMissingColumns },
      parents: [...left.parents, ...right.parents],
      ops: [],
      single: partitions === 1,
    };
  }

  private aggregate(plan: Extract<LogicalPlan, { kind: 'aggregate' }>): PendingFragment {
    const pending = this.lower(plan.child);
    const keys = plan.keys;
    if (pending.single) {
      pending.ops.push({ op: 'aggregate', keys, columns: plan.columns, label: plan.label });
      return pending;
    }
    const calls = splittableCalls(plan.columns);
    const partitions = keys.length === 0 ? 1 : this.shufflePartitions();
    if (calls) {
      const keyNames = keys.map(columnName);
      pending.ops.push({ op: 'partialAggregate', keys, calls, label: plan.label });
      const spec: ExchangeSpec =
        keys.length === 0
          ? { mode: 'single' }
          : { mode: 'hash', keys: keyNames.map((name) => ({ k: 'col', name })) };
      const out = this.exchange(pending, spec, partitions, plan.label);
      out.ops.push({ op: 'finalAggregate', keyNames, calls, label: plan.label });
      return out;
    }
    const spec: ExchangeSpec = keys.length === 0 ? { mode: 'single' } : { mode: 'hash', keys };
    const out = this.exchange(pending, spec, partitions, plan.label);
    out.ops.push({ op: 'aggregate', keys, columns: plan.columns, label: plan.label });
    return out;
  }

  /** Close `pending` into a node, add the exchange reading it; returns the fragment after the exchange. */
  private exchange(
    pending: PendingFragment,
    spec: ExchangeSpec,
    partitions: number,
    label: string,
  ): PendingFragment {
    const mapSide = this.close(pending, 'exchange input');
    const shuffleId = this.builder.nextShuffleId();
    const op = {
      range: 'rangeExchange',
      hash: 'hashExchange',
      hashAll: 'hashExchange',
      roundRobin: 'roundRobinExchange',
      single: 'singleExchange',
      broadcast: 'broadcastExchange',
      rows: 'rdd',
    }[spec.mode];
    const id = this.builder.addNode({
      op,
      parents: [mapSide],
      requestedPartitions: partitions,
      options: { [EXCHANGE_OPTION]: JSON.stringify(spec), numPartitions: partitions, for: label },
      impl: {
        type: 'shuffled',
        dep: { shuffleId, parent: mapSide, keyed: true, mapSideCombine: false },
        partitioning: spec.mode === 'range' ? 'range' : 'hash',
        ...(spec.mode === 'range' ? { sort: { ascending: true } } : {}),
      },
    });
    return { input: { kind: 'exchange' }, parents: [id], ops: [], single: partitions === 1 };
  }

  private close(pending: PendingFragment, op: string): number {
    const { input } = pending;
    const description = {
      input:
        input.kind === 'local' ? { kind: 'local', rows: input.rows.length, schema: input.schema } : input,
      ops: pending.ops,
      ...(pending.coalesce !== undefined ? { coalesce: pending.coalesce } : {}),
    };
    const opName = pending.ops.length > 0 ? pending.ops.map((o) => o.op).join('+') : op;
    return this.builder.addNode({
      op:
        input.kind === 'scan' ? `read.${input.format}${pending.ops.length > 0 ? `+${opName}` : ''}` : opName,
      parents: pending.parents,
      ...(pending.partitions !== undefined ? { requestedPartitions: pending.partitions } : {}),
      options: { [FRAGMENT_OPTION]: JSON.stringify(description) },
      impl: {
        type: 'relational',
        fragment: {
          input,
          ops: pending.ops,
          ...(pending.coalesce !== undefined ? { coalesce: pending.coalesce } : {}),
        },
      },
    });
  }
}

/** The calls of an aggregation whose every column is a split-able aggregate (maybe aliased); else undefined. */
export function splittableCalls(columns: readonly ColumnNode[]): AggregateCall[] | undefined {
  const calls: AggregateCall[] = [];
  for (const column of columns) {
    const inner = column.k === 'alias' ? column.child : column;
    if (inner.k !== 'agg') return undefined;
    const fn = inner.fn;
    if (fn !== 'sum' && fn !== 'count' && fn !== 'avg' && fn !== 'min' && fn !== 'max') return undefined;
    calls.push({ fn, arg: inner.child, name: columnName(column) });
  }
  return calls;
}

/** The sort orders of a range exchange as (expression, ascending, nulls first). */
export function exchangeOrders(
  spec: ExchangeSpec,
): { expr: ColumnNode; ascending: boolean; nullsFirst: boolean }[] {
  return spec.mode === 'range' ? spec.orders.map(sortOrderOf) : [];
}

/** The ExchangeSpec of a DataFrame exchange node, or undefined for any other node. */
export function exchangeSpecOf(node: {
  readonly options: Readonly<Record<string, unknown>>;
}): ExchangeSpec | undefined {
  const text = node.options[EXCHANGE_OPTION];
  return typeof text === 'string' ? (JSON.parse(text) as ExchangeSpec) : undefined;
}
