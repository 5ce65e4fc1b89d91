/**
 * The plan of one `ctx.sql` query before its tables are known (Spark's parsed plan): a tree of
 * the same operators as a DataFrame's logical plan (logical-plan.ts), whose leaves name a temp
 * view or a CTE. The driver parses the SQL text with DuckDB and translates DuckDB's AST into
 * this JSON (duckdb/sql-parse.ts); `ctx.sql` then resolves the names against the session's
 * temp views, synchronously, into a LogicalPlan — so a SQL query plans into exactly the
 * exchanges the equivalent DataFrame calls do. The JSON also travels to executors that rebuild
 * a job's graph (a Dataset stage), so they build the same nodes without parsing SQL.
 */
import { StratusError } from '../../contract/errors.js';
import type { ColumnNode } from './column.js';
import type { JoinType } from './fragment.js';
import type { LogicalPlan } from './logical-plan.js';

/** Which clause of the query an operator comes from, for error messages (`WHERE at line 2, column 7`). */
interface SqlPlanBase {
  readonly clause: string;
}

/** One operator of a parsed SQL query. */
export type SqlPlan = SqlPlanBase &
  /** A temp view, by name; `at` is its offset in the SQL text. */
  (
    | { readonly kind: 'table'; readonly name: string; readonly at: number }
    /** A CTE of the query (WITH), by index into SqlQueryPlan.ctes: every use shares its plan. */
    | { readonly kind: 'cte'; readonly index: number }
    | { readonly kind: 'select'; readonly child: SqlPlan; readonly columns: readonly ColumnNode[] }
    | { readonly kind: 'filter'; readonly child: SqlPlan; readonly condition: ColumnNode }
    | { readonly kind: 'drop'; readonly child: SqlPlan; readonly names: readonly string[] }
    | {
        readonly kind: 'aggregate';
        readonly child: SqlPlan;
        readonly keys: readonly ColumnNode[];
        readonly columns: readonly ColumnNode[];
      }
    | { readonly kind: 'sort'; readonly child: SqlPlan; readonly orders: readonly ColumnNode[] }
    | { readonly kind: 'limit'; readonly child: SqlPlan; readonly n: number }
    | { readonly kind: 'distinct'; readonly child: SqlPlan }
    | {
        readonly kind: 'join';
        readonly left: SqlPlan;
        readonly right: SqlPlan;
        readonly on: readonly string[];
        readonly how: JoinType;
        /** `ON` a condition (columns qualified by the sides' `alias` names); `on` is empty then. */
        readonly condition?: ColumnNode;
      }
    /** A FROM item's name for qualified columns of a join condition (df.alias(name)). */
    | { readonly kind: 'alias'; readonly child: SqlPlan; readonly name: string }
    | {
        readonly kind: 'union';
        readonly left: SqlPlan;
        readonly right: SqlPlan;
        readonly byName: boolean;
      }
  );

/** A parsed query: its plan and the plans of its CTEs (a CTE may use the ones before it). */
export interface SqlQueryPlan {
  readonly root: SqlPlan;
  readonly ctes: readonly SqlPlan[];
}

/** What the driver's parse of one SQL text gave: a plan, or the error `ctx.sql` raises. */
export type ParsedSql =
  | { readonly ok: true; readonly plan: SqlQueryPlan }
  | { readonly ok: false; readonly error: string };

/** `line 2, column 7` of the character at `offset` of `text` (both 1-based). */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines.at(-1)!.length + 1 };
}

/**
 * `at line 2, column 7:` then the line of the SQL text and a caret under the character at
 * `offset`, as a message excerpt (two lines, indented).
 */
export function sqlExcerpt(text: string, offset: number): string {
  const { line, column } = lineColumn(text, offset);
  const source = text.split('\n')[line - 1] ?? '';
  return `at line ${line}, column ${column}:\n    ${source}\n    ${' '.repeat(column - 1)}^`;
}

/** Thrown by ctx.sql for a query that does not parse, names a missing view, or uses a construct not supported. */
export function sqlError(label: string, message: string): StratusError {
  return new StratusError('DATAFRAME_ANALYSIS', `${label}: ${message}`);
}

/**
 * The LogicalPlan of a parsed query over `views` (temp views by lower-cased name). `label` names
 * the user's call (`sql at report.ts:9`); each operator's label adds its clause. Throws
 * DATAFRAME_ANALYSIS naming the views there are when a table is none of them or of the CTEs.
 */
export function sqlLogicalPlan(
  parsed: SqlQueryPlan,
  text: string,
  views: ReadonlyMap<string, LogicalPlan>,
  label: string,
): LogicalPlan {
  const ctes: LogicalPlan[] = [];
  const lower = (p: SqlPlan): LogicalPlan => {
    const at = `${label} (${p.clause})`;
    switch (p.kind) {
      case 'table': {
        const view = views.get(p.name.toLowerCase());
        if (view) return view;
        const known = [...views.keys()].sort();
        throw sqlError(
          label,
          `table or view ${JSON.stringify(p.name)} not found ${sqlExcerpt(text, p.at)}\n  temp views: ${known.length > 0 ? known.join(', ') : '(none: create one with df.createOrReplaceTempView(name))'}`,
        );
      }
      case 'cte': {
        const plan = ctes[p.index];
        if (!plan) throw new Error(`internal: CTE ${p.index} used before it is defined`);
        return plan;
      }
      case 'select':
        return { kind: 'select', child: lower(p.child), columns: p.columns, label: at };
      case 'filter':
        return { kind: 'filter', child: lower(p.child), condition: p.condition, label: at };
      case 'drop':
        return { kind: 'drop', child: lower(p.child), names: p.names, label: at };
      case 'aggregate':
        return { kind: 'aggregate', child: lower(p.child), keys: p.keys, columns: p.columns, label: at };
      case 'sort':
        return { kind: 'sort', child: lower(p.child), orders: p.orders, label: at };
      case 'limit':
        return { kind: 'limit', child: lower(p.child), n: p.n, label: at };
      case 'distinct':
        return { kind: 'distinct', child: lower(p.child), label: at };
      case 'join':
        return {
          kind: 'join',
          left: lower(p.left),
          right: lower(p.right),
          on: p.on,
          ...(p.condition ? { condition: p.condition } : {}),
          how: p.how,
          distinctColumns: true,
          label: at,
        };
      case 'alias':
        return { kind: 'alias', child: lower(p.child), name: p.name, label: at };
      case 'union':
        return {
          kind: 'union',
          left: lower(p.left),
          right: lower(p.right),
          byName: p.byName,
          allowMissingColumns: p.byName,
          label: at,
        };
    }
  };
  for (const cte of parsed.ctes) ctes.push(lower(cte));
  return lower(parsed.root);
}
