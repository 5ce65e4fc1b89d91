/**
 * The logical plan of a DataFrame, as Spark's analyzed plan before physical planning: a tree of
 * operators with the user's expressions and call sites. It is built by DataFrame methods and
 * lowered into job-graph nodes (fragments and exchanges) by planner.ts when an action is taken.
 */
import type { ColumnNode } from './column.js';
import type { FragmentInput, JoinType } from './fragment.js';

/** Fields every logical operator has: where the user called it. */
interface PlanBase {
  /** `select at sales.ts:8` (or `select` when the stack does not say): names the call in errors. */
  readonly label: string;
}

/** A DataFrame's logical plan. */
export type LogicalPlan = PlanBase &
  (
    | {
        readonly kind: 'source';
        readonly input: Extract<FragmentInput, { kind: 'scan' | 'local' | 'records' }>;
        /** Partitions asked for: minPartitions of a file scan, numSlices of local rows. */
        readonly partitions: number;
      }
    | { readonly kind: 'select'; readonly child: LogicalPlan; readonly columns: readonly ColumnNode[] }
    | { readonly kind: 'filter'; readonly child: LogicalPlan; readonly condition: ColumnNode }
    | {
        readonly kind: 'withColumn';
        readonly child: LogicalPlan;
        readonly name: string;
        readonly column: ColumnNode;
      }
    | {
        readonly kind: 'withColumnRenamed';
        readonly child: LogicalPlan;
        readonly from: string;
        readonly to: string;
      }
    | { readonly kind: 'drop'; readonly child: LogicalPlan; readonly names: readonly string[] }
    | {
        readonly kind: 'aggregate';
        readonly child: LogicalPlan;
        readonly keys: readonly ColumnNode[];
        readonly columns: readonly ColumnNode[];
      }
    | { readonly kind: 'sort'; readonly child: LogicalPlan; readonly orders: readonly ColumnNode[] }
    | { readonly kind: 'limit'; readonly child: LogicalPlan; readonly n: number }
    | {
        readonly kind: 'join';
        readonly left: LogicalPlan;
        readonly right: LogicalPlan;
        /** Using columns; empty when the join has a condition. */
        readonly on: readonly string[];
        readonly condition?: ColumnNode;
        readonly how: JoinType;
        /** From ctx.sql: a column name on both sides besides `on` is an error (SQL names columns by table, the join's output cannot). */
        readonly distinctColumns?: boolean;
      }
    /** df.alias(name): names the DataFrame for qualified columns (`col('a.k')`); no operator. */
    | { readonly kind: 'alias'; readonly child: LogicalPlan; readonly name: string }
    /** broadcast(df): the hint that a join above should broadcast this side. */
    | { readonly kind: 'broadcast'; readonly child: LogicalPlan }
    /** distinct (`columns` undefined) or dropDuplicates(columns). */
    | { readonly kind: 'distinct'; readonly child: LogicalPlan; readonly columns?: readonly string[] }
    /** repartition(n, ...keys): a hash exchange on the keys, round-robin without keys. */
    | {
        readonly kind: 'repartition';
        readonly child: LogicalPlan;
        readonly n: number;
        readonly keys: readonly ColumnNode[];
      }
    /** coalesce(n): at most n partitions, each task reading a range of its input's partitions (no shuffle). */
    | { readonly kind: 'coalesce'; readonly child: LogicalPlan; readonly n: number }
    /** union (by position) or unionByName; duplicates are kept (Spark's UNION ALL). */
    | {
        readonly kind: 'union';
        readonly left: LogicalPlan;
        readonly right: LogicalPlan;
        readonly byName: boolean;
        readonly allowMissingColumns: boolean;
      }
  );

/** Spark's `explain` tree of a logical plan (the parsed plan: operators and expressions as written). */
export function logicalPlanString(plan: LogicalPlan, render: (node: ColumnNode) => string): string {
  const lines: string[] = [];
  const visit = (p: LogicalPlan, depth: number) => {
    const pad = depth === 0 ? '' : `${'   '.repeat(depth - 1)}+- `;
    lines.push(`${pad}${describe(p, render)}`);
    if (p.kind === 'join' || p.kind === 'union') {
      visit(p.left, depth + 1);
      visit(p.right, depth + 1);
    } else if (p.kind !== 'source') visit(p.child, depth + 1);
  };
  visit(plan, 0);
  return lines.join('\n');
}

function describe(p: LogicalPlan, render: (node: ColumnNode) => string): string {
  const list = (nodes: readonly ColumnNode[]) => `[${nodes.map(render).join(', ')}]`;
  switch (p.kind) {
    case 'source':
      if (p.input.kind === 'scan') return `Relation ${p.input.format} ${p.input.uri}`;
      if (p.input.kind === 'records')
        return `LogicalRDD [${p.input.schema.fields.map((f) => f.name).join(', ')}] (${p.label})`;
      return `LocalRelation (${p.input.rows.length} rows)`;
    case 'select':
      return `Project ${list(p.columns)}`;
    case 'filter':
      return `Filter ${render(p.condition)}`;
    case 'withColumn':
      return `Project [*, ${render(p.column)} AS ${p.name}]`;
    case 'withColumnRenamed':
      return `Project [* RENAME ${p.from} AS ${p.to}]`;
    case 'drop':
      return `Project [* EXCEPT ${p.names.join(', ')}]`;
    case 'aggregate':
      return `Aggregate ${list(p.keys)}, ${list(p.columns)}`;
    case 'sort':
      return `Sort ${list(p.orders)}, true`;
    case 'limit':
      return `GlobalLimit ${p.n}`;
    case 'join':
      return p.condition ? `Join ${p.how}, ${render(p.condition)}` : `Join ${p.how}, [${p.on.join(', ')}]`;
    case 'alias':
      return `SubqueryAlias ${p.name}`;
    case 'broadcast':
      return 'ResolvedHint (strategy=broadcast)';
    case 'distinct':
      return p.columns ? `Deduplicate [${p.columns.join(', ')}]` : 'Distinct';
    case 'repartition':
      return p.keys.length > 0
        ? `RepartitionByExpression ${list(p.keys)}, ${p.n}`
        : `Repartition ${p.n}, true`;
    case 'coalesce':
      return `Repartition ${p.n}, false`;
    case 'union':
      return p.byName ? `Union false, ${p.allowMissingColumns}` : 'Union';
  }
}
