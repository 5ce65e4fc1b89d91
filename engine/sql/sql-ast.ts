/**
 * Translation of DuckDB's parse tree of a SELECT statement (`json_serialize_sql`) into the
 * operators of a SqlQueryPlan (sql-plan.ts), as Spark's analyzer turns a parsed query into the
 * Dataset operators: FROM (views, CTEs, subqueries, joins on keys or on a condition) → WHERE →
 * GROUP BY aggregation → HAVING → SELECT (window functions as the DataFrame API's window columns)
 * → DISTINCT → ORDER BY → LIMIT; UNION [ALL | BY NAME] between queries.
 * Aggregates of the DataFrame API (sum, count, avg, min, max, count(DISTINCT), first) become
 * the same aggregate nodes as `groupBy().agg(...)`, so they split into partial and final steps
 * around the same hash exchange. Other expressions stay SQL text: the translation records each
 * expression it needs printed, and the caller has DuckDB print them (`json_deserialize_sql`).
 * Anything else is refused with SqlRefusal naming the construct and its place in the text.
 * Pure: no DuckDB here, so the rules are testable and the driver's parse is the only I/O.
 * Longer than most files: the clauses of a SELECT share one translator's state (the FROM's
 * table aliases, the CTE scopes, the expressions waiting to be printed).
 */
import type { ColumnNode, WindowSpecNode } from './column.js';
import type { JoinType } from './fragment.js';
import {
  type Ast,
  child,
  columnRef,
  conjuncts,
  integerConstant,
  list,
  present,
  replace,
  shapeKey,
  str,
  stripped,
  visit,
} from './sql-ast-tree.js';
import { type SqlPlan, type SqlQueryPlan, sqlExcerpt } from './sql-plan.js';

export type { Ast } from './sql-ast-tree.js';

/** An expression whose SQL text DuckDB must print (`node.text` is filled in then). */
export interface PendingText {
  readonly ast: Ast;
  readonly node: { k: 'sql'; text: string };
}

/** A query the translation refuses: a construct not supported yet, or a query that cannot be planned. */
export class SqlRefusal extends Error {}

/** What translateStatement gives: the plan (its SQL texts still empty) and the texts to print. */
export interface Translation {
  readonly plan: SqlQueryPlan;
  readonly pending: readonly PendingText[];
  /** Run once the pending texts are filled: names of unaliased expressions are their text. */
  readonly finish: () => void;
}

const SPLIT_AGGREGATES: Readonly<Record<string, 'sum' | 'count' | 'avg' | 'min' | 'max' | 'first'>> = {
  sum: 'sum',
  count: 'count',
  avg: 'avg',
  mean: 'avg',
  min: 'min',
  max: 'max',
  first: 'first',
};

const JOIN_TYPES: Readonly<Record<string, JoinType>> = {
  INNER: 'inner',
  LEFT: 'left',
  RIGHT: 'right',
  OUTER: 'full',
  FULL: 'full',
  SEMI: 'semi',
  ANTI: 'anti',
};

/** Window functions planned as the DataFrame API's (window.ts); DuckDB's aggregates are allowed too. */
const RANKING = new Set(['row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist']);
const VALUE_WINDOWS = new Set(['first_value', 'last_value']);

/** Comparisons of a join condition as the Column operators (`=`, `<`, `<=>`, …). */
const COMPARISONS: Readonly<Record<string, string>> = {
  COMPARE_EQUAL: '=',
  COMPARE_NOTEQUAL: '!=',
  COMPARE_LESSTHAN: '<',
  COMPARE_GREATERTHAN: '>',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHANOREQUALTO: '>=',
  COMPARE_NOT_DISTINCT_FROM: '<=>',
};
const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);

const col = (name: string): ColumnNode => ({ k: 'col', name });
const alias = (node: ColumnNode, name: string): ColumnNode => ({ k: 'alias', child: node, name });

/** A FROM item: its plan and the names (table names, aliases) its columns may be qualified with. */
interface Relation {
  readonly plan: SqlPlan;
  readonly aliases: ReadonlySet<string>;
}

class Translator {
  readonly pending: PendingText[] = [];
  readonly fixups: (() => void)[] = [];
  readonly ctes: SqlPlan[] = [];
  private readonly cteScopes: Map<string, number>[] = [];

  constructor(
    private readonly text: string,
    private readonly aggregates: ReadonlySet<string>,
  ) {}

  where(ast: Ast | undefined): string {
    const at = ast?.query_location;
    if (typeof at !== 'number' || at < 0 || at > this.text.length) return '';
    return ` ${sqlExcerpt(this.text, at)}`;
  }

  clause(name: string, ast: Ast | undefined): string {
    const at = ast?.query_location;
    if (typeof at !== 'number' || at > this.text.length) return name;
    const lines = this.text.slice(0, at).split('\n');
    return `${name} at line ${lines.length}, column ${lines.at(-1)!.length + 1}`;
  }

  refuse(construct: string, ast: Ast | undefined): never {
    throw new SqlRefusal(`${construct} is not supported yet in ctx.sql${this.where(ast)}`);
  }

  fail(message: string, ast: Ast | undefined): never {
    throw new SqlRefusal(`${message}${this.where(ast)}`);
  }

  /** SQL text DuckDB will print for `ast` (qualifiers of `aliases` removed). */
  textOf(ast: Ast, aliases: ReadonlySet<string>, selectItem = false): { k: 'sql'; text: string } {
    this.checkExpression(ast, selectItem);
    const node = { k: 'sql' as const, text: '' };
    const printable = stripped(ast, aliases) as Record<string, unknown>;
    delete printable.alias;
    this.pending.push({ ast: printable, node });
    return node;
  }

  /** Refuse what an expression may not contain here: subqueries, and window functions but in a SELECT item (not nested). */
  checkExpression(ast: Ast, selectItem = false, insideWindow = false): void {
    visit(ast, (node) => {
      if (node.class === 'WINDOW') {
        if (insideWindow) this.refuse('a window function inside a window function', node);
        if (!selectItem)
          this.refuse(
            'a window function outside the SELECT list (select it in a subquery, then use its column)',
            node,
          );
        for (const v of Object.values(node))
          if (v !== null && typeof v === 'object') this.checkExpression(v as Ast, false, true);
        return false;
      }
      if (node.class === 'SUBQUERY') this.refuse('a subquery inside an expression', node);
      return true;
    });
  }

  expr(ast: Ast, aliases: ReadonlySet<string>): ColumnNode {
    if (ast.class === 'COLUMN_REF') {
      const names = list(ast.column_names) as unknown as string[];
      if (names.length === 1) return col(names[0]!);
      if (names.length === 2 && aliases.has(names[0]!.toLowerCase())) return col(names[1]!);
    }
    return this.textOf(ast, aliases);
  }

  isAggregate(ast: Ast): boolean {
    return ast.class === 'FUNCTION' && this.aggregates.has(String(ast.function_name).toLowerCase());
  }

  /** An aggregate call as the DataFrame API builds it, or as SQL text (aggregated once after an exchange). */
  aggregate(ast: Ast, aliases: ReadonlySet<string>): ColumnNode {
    const fn = String(ast.function_name).toLowerCase();
    const args = list(ast.children);
    const plain =
      !present(ast.filter) && list(child(ast, 'order_bys')?.orders).length === 0 && !ast.export_state;
    if (plain && fn === 'count_star') return { k: 'agg', fn: 'count', child: '*' };
    const split = SPLIT_AGGREGATES[fn];
    if (plain && split && args.length === 1) {
      for (const arg of args)
        visit(arg, (n) => !this.isAggregate(n) || this.fail('an aggregate inside an aggregate', n));
      const arg = this.expr(args[0]!, aliases);
      if (ast.distinct === true) {
        if (split === 'count') return { k: 'agg', fn: 'count_distinct', child: arg };
        if (split === 'min' || split === 'max') return { k: 'agg', fn: split, child: arg };
        return this.textOf(ast, aliases);
      }
      return { k: 'agg', fn: split, child: arg };
    }
    return this.textOf(ast, aliases);
  }

  /** Spark's name of a select item when it is known without printing: its alias, a column's name, `sum(amount)`, `count(1)`. */
  knownName(ast: Ast): string | undefined {
    const given = str(ast.alias);
    if (given) return given;
    if (ast.class === 'COLUMN_REF') return (list(ast.column_names) as unknown as string[]).at(-1);
    if (!this.isAggregate(ast)) return undefined;
    const fn = String(ast.function_name).toLowerCase();
    if (fn === 'count_star') return 'count(1)';
    const args = list(ast.children);
    const argument = args[0];
    if (!SPLIT_AGGREGATES[fn] || args.length !== 1 || argument?.class !== 'COLUMN_REF') return undefined;
    const name = (list(argument.column_names) as unknown as string[]).at(-1)!;
    return ast.distinct === true ? `${fn}(DISTINCT ${name})` : `${fn}(${name})`;
  }

  /** Spark's name of an unaliased select item (knownName, else its SQL text as DuckDB prints it), given to `set`. */
  outputName(ast: Ast, aliases: ReadonlySet<string>, set: (name: string) => void): void {
    const known = this.knownName(ast);
    if (known !== undefined) {
      set(known);
      return;
    }
    const text = this.textOf(ast, aliases, true);
    this.fixups.push(() => set(text.text));
  }

  query(node: Ast): SqlPlan {
    const ctes = list(child(node, 'cte_map')?.map);
    if (ctes.length > 0) {
      const scope = new Map<string, number>();
      this.cteScopes.push(scope);
      for (const entry of ctes) {
        const value = child(entry, 'value');
        const body = child(child(value ?? {}, 'query') ?? {}, 'node');
        if (!body) this.fail(`cannot read the CTE ${String(entry.key)}`, undefined);
        const index = this.ctes.length;
        this.ctes.push(this.query(body));
        scope.set(String(entry.key).toLowerCase(), index);
      }
    }
    try {
      if (node.type === 'SELECT_NODE') return this.select(node);
      if (node.type === 'SET_OPERATION_NODE') return this.setOperation(node);
      if (node.type === 'RECURSIVE_CTE_NODE') this.refuse('WITH RECURSIVE', node);
      return this.refuse(`a ${String(node.type)}`, node);
    } finally {
      if (ctes.length > 0) this.cteScopes.pop();
    }
  }

  private modifiers(node: Ast): { distinct: boolean; orders: Ast[]; limit?: number } {
    let distinct = false;
    let orders: Ast[] = [];
    let limit: number | undefined;
    for (const m of list(node.modifiers)) {
      if (m.type === 'DISTINCT_MODIFIER') {
        if (list(m.distinct_on_targets).length > 0) this.refuse('DISTINCT ON', node);
        distinct = true;
      } else if (m.type === 'ORDER_MODIFIER') orders = list(m.orders);
      else if (m.type === 'LIMIT_MODIFIER') {
        if (present(m.offset)) this.refuse('OFFSET', child(m, 'offset'));
        if (!present(m.limit)) continue;
        const n = integerConstant(child(m, 'limit'));
        if (n === undefined || n < 0)
          this.refuse('a LIMIT that is not a non-negative integer', child(m, 'limit'));
        limit = n;
      } else this.refuse(String(m.type).replace('_MODIFIER', '').replace('_', ' '), node);
    }
    return { distinct, orders, ...(limit !== undefined ? { limit } : {}) };
  }

  private orderDirection(order: Ast): { ascending: boolean; nullsFirst: boolean } {
    const ascending = order.type !== 'DESCENDING';
    const nulls = String(order.null_order);
    // Spark's default: nulls first ascending, last descending (DuckDB's default is nulls last).
    const nullsFirst = nulls.includes('FIRST') ? true : nulls.includes('LAST') ? false : ascending;
    return { ascending, nullsFirst };
  }

  private select(node: Ast): SqlPlan {
    const from = child(node, 'from_table');
    if (!from || from.type === 'EMPTY') this.refuse('a SELECT without FROM', node);
    if (present(node.qualify)) this.refuse('QUALIFY', child(node, 'qualify'));
    if (present(node.sample)) this.refuse('USING SAMPLE', node);
    if (list(node.group_sets).length > 1) this.refuse('GROUPING SETS, ROLLUP or CUBE', node);
    if (node.aggregate_handling === 'FORCE_AGGREGATES') this.refuse('GROUP BY ALL', node);
    const { plan: source, aliases } = this.table(from);
    let plan = source;
    const where = child(node, 'where_clause');
    if (where) {
      visit(
        where,
        (n) => !this.isAggregate(n) || this.fail('an aggregate function in WHERE (use HAVING)', n),
      );
      plan = {
        kind: 'filter',
        child: plan,
        condition: this.expr(where, aliases),
        clause: this.clause('WHERE', where),
      };
    }
    const items = list(node.select_list);
    const mods = this.modifiers(node);
    const having = child(node, 'having');
    const groups = list(node.group_expressions).map((g) => {
      const position = integerConstant(g);
      if (position === undefined) return g;
      const item = items[position - 1];
      if (!item || item.class === 'STAR')
        this.fail(`GROUP BY ${position} is not a position in the SELECT list`, g);
      return item;
    });
    for (const item of items) this.checkExpression(item, true);
    const orderExprs = mods.orders.map((o) => child(o, 'expression')!);
    let aggregated = groups.length > 0;
    for (const e of [...items, ...(having ? [having] : []), ...orderExprs])
      visit(e, (n) => {
        if (this.isAggregate(n)) aggregated = true;
      });
    if (having && !aggregated) this.refuse('HAVING without GROUP BY or an aggregate', having);

    // Post-aggregation expressions read the keys and the aggregates by name.
    let post = (ast: Ast): Ast => ast;
    if (aggregated) {
      const keyNames = new Map<string, string>();
      const keys = groups.map((g, i): ColumnNode => {
        const name =
          g.class === 'COLUMN_REF' ? (list(g.column_names) as unknown as string[]).at(-1)! : `__key${i}`;
        keyNames.set(shapeKey(g, aliases), name);
        const value = this.expr(g, aliases);
        return value.k === 'col' && value.name === name ? value : alias(value, name);
      });
      const aggregateNames = new Map<string, string>();
      const columns: ColumnNode[] = [];
      const taken = new Set([...keyNames.values()].map((n) => n.toLowerCase()));
      const collect = (ast: Ast) =>
        visit(ast, (n) => {
          if (!this.isAggregate(n)) return true;
          const key = shapeKey(n, aliases);
          if (!aggregateNames.has(key)) {
            // A select item that is an aggregate keeps its output name (as groupBy().agg(sum(x).as(name))).
            let name = `__agg${aggregateNames.size}`;
            const known = items.includes(n) ? this.knownName(n) : undefined;
            if (known !== undefined && !taken.has(known.toLowerCase())) name = known;
            taken.add(name.toLowerCase());
            aggregateNames.set(key, name);
            columns.push(alias(this.aggregate(n, aliases), name));
          }
          return false;
        });
      for (const e of [...items, ...(having ? [having] : []), ...orderExprs]) collect(e);
      plan = {
        kind: 'aggregate',
        child: plan,
        keys,
        columns,
        clause: this.clause('GROUP BY', groups[0] ?? items[0]),
      };
      const known = new Set([...keyNames.values(), ...aggregateNames.values()].map((n) => n.toLowerCase()));
      post = (ast: Ast): Ast => {
        const replaced = replace(ast, (n) => {
          const key = shapeKey(n, aliases);
          const name = keyNames.get(key) ?? (this.isAggregate(n) ? aggregateNames.get(key) : undefined);
          return name !== undefined ? { ...columnRef(name), query_location: n.query_location } : undefined;
        });
        visit(replaced, (n) => {
          if (n.class !== 'COLUMN_REF') return true;
          const name = (list(n.column_names) as unknown as string[]).at(-1)!;
          if (!known.has(name.toLowerCase()))
            this.fail(
              `column ${JSON.stringify(name)} must appear in GROUP BY or inside an aggregate function`,
              n,
            );
          return true;
        });
        return replaced;
      };
      if (having)
        plan = {
          kind: 'filter',
          child: plan,
          condition: this.expr(post(having), aliases),
          clause: this.clause('HAVING', having),
        };
    }

    // A window inside an item's expression is computed first under a hidden name (as withColumn), then read by name.
    const windowNames = new Map<string, string>();
    const windowColumns: ColumnNode[] = [];
    const lifted = (ast: Ast): Ast =>
      replace(ast, (n) => {
        if (n.class !== 'WINDOW') return undefined;
        const key = shapeKey(n, aliases);
        let name = windowNames.get(key);
        if (name === undefined) {
          name = `__win${windowNames.size}`;
          windowNames.set(key, name);
          windowColumns.push(alias(this.window(n, aliases), name));
        }
        return { ...columnRef(name), query_location: n.query_location };
      });

    // SELECT: each item under its output name (Spark's names when unaliased).
    const outputs: { name: string; key: string; star: boolean }[] = [];
    const columns: ColumnNode[] = items.map((item) => {
      if (item.class === 'STAR') {
        if (
          present(item.relation_name) ||
          present(item.exclude_list) ||
          present(item.replace_list) ||
          present(item.rename_list) ||
          present(item.expr) ||
          item.columns === true
        )
          this.refuse('a qualified or modified * (s.*, * EXCLUDE, COLUMNS)', item);
        if (aggregated) this.fail('SELECT * in an aggregation', item);
        outputs.push({ name: '*', key: '', star: true });
        return col('*');
      }
      const output = { name: '', key: shapeKey(item, aliases), star: false };
      outputs.push(output);
      const posted = post(item);
      const value =
        posted.class === 'WINDOW' ? this.window(posted, aliases) : this.expr(lifted(posted), aliases);
      const node = { k: 'alias' as const, child: value, name: '' };
      this.outputName(item, aliases, (name) => {
        output.name = name;
        node.name = name;
      });
      if (value.k === 'col' && output.name !== '' && value.name === output.name) return value;
      return node;
    });

    // ORDER BY: an output column (by name, position or the same expression), else a hidden column.
    const hidden: string[] = [];
    const orders = mods.orders.map((order, i): ColumnNode => {
      const e = orderExprs[i]!;
      const direction = this.orderDirection(order);
      const sorted = (name: string): ColumnNode => ({ k: 'sort', child: col(name), ...direction });
      const position = integerConstant(e);
      if (position !== undefined) {
        const output = outputs[position - 1];
        if (!output || output.star) this.fail(`ORDER BY ${position} is not a position in the SELECT list`, e);
        return this.sortedOutput(output, direction);
      }
      if (e.class === 'COLUMN_REF') {
        const name = (list(e.column_names) as unknown as string[]).at(-1)!.toLowerCase();
        const named = items.findIndex(
          (it, j) =>
            str(it.alias)?.toLowerCase() === name ||
            (!str(it.alias) && it.class === 'COLUMN_REF' && outputs[j]!.name.toLowerCase() === name),
        );
        if (named >= 0) return sorted(outputs[named]!.name);
      }
      const same = outputs.findIndex((o) => !o.star && o.key === shapeKey(e, aliases));
      if (same >= 0) {
        return this.sortedOutput(outputs[same]!, direction);
      }
      if (mods.distinct) this.fail('ORDER BY an expression that is not in the SELECT DISTINCT list', e);
      const name = `__order${hidden.length}`;
      hidden.push(name);
      columns.push(alias(this.expr(post(e), aliases), name));
      return sorted(name);
    });

    const only = columns.length === 1 && columns[0]!.k === 'col' && columns[0]!.name === '*';
    if (windowColumns.length > 0)
      plan = {
        kind: 'select',
        child: plan,
        columns: [col('*'), ...windowColumns],
        clause: this.clause('SELECT', items[0]),
      };
    if (!only || aggregated)
      plan = { kind: 'select', child: plan, columns, clause: this.clause('SELECT', items[0]) };
    if (windowColumns.length > 0 && outputs.some((o) => o.star))
      plan = { kind: 'drop', child: plan, names: [...windowNames.values()], clause: 'SELECT' };
    if (mods.distinct) plan = { kind: 'distinct', child: plan, clause: 'SELECT DISTINCT' };
    if (orders.length > 0)
      plan = { kind: 'sort', child: plan, orders, clause: this.clause('ORDER BY', orderExprs[0]) };
    if (mods.limit !== undefined) plan = { kind: 'limit', child: plan, n: mods.limit, clause: 'LIMIT' };
    if (hidden.length > 0) plan = { kind: 'drop', child: plan, names: hidden, clause: 'ORDER BY' };
    return plan;
  }

  /** A sort on an output column whose name may be known only once DuckDB printed its expression. */
  private sortedOutput(
    output: { name: string },
    direction: { ascending: boolean; nullsFirst: boolean },
  ): ColumnNode {
    const column = { k: 'col' as const, name: output.name };
    if (column.name === '') this.fixups.push(() => (column.name = output.name));
    return { k: 'sort', child: column, ...direction };
  }

  /** A window function as the DataFrame API builds it: `fn.over(Window.partitionBy(…).orderBy(…).rowsBetween(…))`. */
  private window(ast: Ast, aliases: ReadonlySet<string>): ColumnNode {
    const fn = String(ast.function_name).toLowerCase();
    if (ast.ignore_nulls === true) this.refuse('IGNORE NULLS in a window function', ast);
    if (present(ast.filter_expr)) this.refuse('FILTER in a window function', ast);
    if (ast.distinct === true) this.refuse('DISTINCT in a window function', ast);
    if (list(ast.arg_orders).length > 0) this.refuse('ORDER BY inside a window function call', ast);
    if (present(ast.exclude_clause) && ast.exclude_clause !== 'NO_OTHER')
      this.refuse('EXCLUDE in a window frame', ast);
    const args = list(ast.children);
    let value: ColumnNode;
    if (RANKING.has(fn) && args.length === 0) value = { k: 'call', fn, args: [] };
    else if (fn === 'ntile' && args.length === 1) {
      const n = integerConstant(args[0]);
      if (n === undefined || n < 1) this.refuse('ntile of anything but a positive integer', args[0]);
      value = { k: 'call', fn, args: [{ k: 'lit', value: n }] };
    } else if ((fn === 'lag' || fn === 'lead') && args.length === 1) {
      const offsetAst = child(ast, 'offset_expr');
      const offset = offsetAst ? integerConstant(offsetAst) : 1;
      if (offset === undefined) this.refuse(`a ${fn} offset that is not an integer`, offsetAst);
      const fallback = child(ast, 'default_expr');
      value = {
        k: 'call',
        fn,
        args: [
          this.expr(args[0]!, aliases),
          { k: 'lit', value: offset },
          fallback ? this.expr(fallback, aliases) : { k: 'lit', value: null },
        ],
      };
    } else if (fn === 'count' && args.length === 0) value = { k: 'agg', fn: 'count', child: '*' };
    else if (SPLIT_AGGREGATES[fn] && SPLIT_AGGREGATES[fn] !== 'first' && args.length === 1)
      value = { k: 'agg', fn: SPLIT_AGGREGATES[fn], child: this.expr(args[0]!, aliases) };
    else if ((VALUE_WINDOWS.has(fn) && args.length === 1) || (this.aggregates.has(fn) && args.length > 0))
      value = { k: 'call', fn, args: args.map((a) => this.expr(a, aliases)) };
    else return this.refuse(`the window function ${fn}(${args.length > 0 ? '…' : ''})`, ast);
    for (const a of [...args, ...list(ast.partitions)])
      visit(a, (n) => !this.isAggregate(n) || this.fail('an aggregate inside a window function', n));
    const spec: WindowSpecNode = {
      partitionBy: list(ast.partitions).map((p) => this.expr(p, aliases)),
      orderBy: list(ast.orders).map(
        (o): ColumnNode => ({
          k: 'sort',
          child: this.expr(child(o, 'expression')!, aliases),
          ...this.orderDirection(o),
        }),
      ),
    };
    const frame = this.frame(ast);
    return { k: 'window', fn: value, spec: frame ? { ...spec, frame } : spec };
  }

  /** The frame of a window (undefined: DuckDB's and Spark's default frame). */
  private frame(ast: Ast): WindowSpecNode['frame'] {
    const start = String(ast.start);
    const end = String(ast.end);
    if (start === 'UNBOUNDED_PRECEDING' && end === 'CURRENT_ROW_RANGE') return undefined;
    const kinds = new Set(
      [start, end].map((b) => /_(ROWS|RANGE|GROUPS)$/.exec(b)?.[1]).filter((k) => k !== undefined),
    );
    if (kinds.has('GROUPS')) this.refuse('a GROUPS frame', ast);
    const kind = kinds.has('RANGE') ? 'range' : 'rows';
    const bound = (b: string, expression: Ast | undefined): number | null => {
      if (b === 'UNBOUNDED_PRECEDING' || b === 'UNBOUNDED_FOLLOWING') return null;
      if (b.startsWith('CURRENT_ROW')) return 0;
      const n = integerConstant(expression);
      if (n === undefined || n < 0)
        this.refuse('a frame offset that is not a non-negative integer', expression ?? ast);
      return b.startsWith('EXPR_PRECEDING') ? -n : n;
    };
    return {
      kind,
      start: bound(start, child(ast, 'start_expr')),
      end: bound(end, child(ast, 'end_expr')),
    };
  }

  private setOperation(node: Ast): SqlPlan {
    const type = String(node.setop_type);
    const left = this.query(child(node, 'left')!);
    const right = this.query(child(node, 'right')!);
    const all = node.setop_all === true;
    let plan: SqlPlan;
    if (type === 'UNION' || type === 'UNION_BY_NAME') {
      const byName = type === 'UNION_BY_NAME';
      const label = `UNION${byName ? ' BY NAME' : ''}${all ? ' ALL' : ''}`;
      plan = { kind: 'union', left, right, byName, clause: label };
      if (!all) plan = { kind: 'distinct', child: plan, clause: label };
    } else this.refuse(`${type}${all ? ' ALL' : ''}`, node);
    const mods = this.modifiers(node);
    if (mods.distinct) plan = { kind: 'distinct', child: plan, clause: 'DISTINCT' };
    if (mods.orders.length > 0) {
      const orders = mods.orders.map((order): ColumnNode => {
        const e = child(order, 'expression')!;
        if (integerConstant(e) !== undefined)
          this.refuse('ORDER BY a position after a UNION (order by the column name)', e);
        return { k: 'sort', child: this.expr(e, new Set()), ...this.orderDirection(order) };
      });
      plan = { kind: 'sort', child: plan, orders, clause: 'ORDER BY' };
    }
    if (mods.limit !== undefined) plan = { kind: 'limit', child: plan, n: mods.limit, clause: 'LIMIT' };
    return plan;
  }

  private table(from: Ast): Relation {
    if (from.type === 'BASE_TABLE') {
      if (str(from.schema_name) || str(from.catalog_name))
        this.refuse('a table name with a schema or catalog (name a temp view)', from);
      if (list(from.column_name_alias).length > 0) this.refuse('column aliases of a table', from);
      if (present(from.sample)) this.refuse('TABLESAMPLE', from);
      const name = String(from.table_name);
      const alias = str(from.alias) ?? name;
      for (let i = this.cteScopes.length - 1; i >= 0; i--) {
        const index = this.cteScopes[i]!.get(name.toLowerCase());
        if (index !== undefined)
          return {
            plan: { kind: 'cte', index, clause: this.clause('FROM', from) },
            aliases: new Set([alias.toLowerCase()]),
          };
      }
      const at =
        typeof from.query_location === 'number' && from.query_location <= this.text.length
          ? from.query_location
          : 0;
      return {
        plan: { kind: 'table', name, at, clause: this.clause('FROM', from) },
        aliases: new Set([alias.toLowerCase()]),
      };
    }
    if (from.type === 'SUBQUERY') {
      if (list(from.column_name_alias).length > 0) this.refuse('column aliases of a subquery', from);
      const body = child(child(from, 'subquery') ?? {}, 'node');
      if (!body) this.fail('cannot read the subquery', from);
      const name = str(from.alias);
      return { plan: this.query(body), aliases: new Set(name ? [name.toLowerCase()] : []) };
    }
    if (from.type === 'JOIN') return this.join(from);
    if (from.type === 'TABLE_FUNCTION')
      return this.refuse('a table function in FROM (read files with ctx.read)', from);
    if (from.type === 'EXPRESSION_LIST') return this.refuse('VALUES in FROM (use ctx.createDataFrame)', from);
    return this.refuse(`${String(from.type)} in FROM`, from);
  }

  private join(from: Ast): Relation {
    const ref = String(from.ref_type);
    if (ref === 'CROSS') this.refuse('a comma join or CROSS JOIN (write JOIN … ON a.k = b.k)', from);
    if (ref !== 'REGULAR') this.refuse(`a ${ref} join`, from);
    const how = JOIN_TYPES[String(from.join_type)];
    if (!how) this.refuse(`a ${String(from.join_type)} join`, from);
    const left = this.table(child(from, 'left')!);
    const right = this.table(child(from, 'right')!);
    const clause = this.clause('JOIN', from);
    const aliases = new Set(
      how === 'semi' || how === 'anti' ? left.aliases : [...left.aliases, ...right.aliases],
    );
    const using = list(from.using_columns) as unknown as string[];
    if (using.length > 0) {
      return { plan: { kind: 'join', left: left.plan, right: right.plan, on: using, how, clause }, aliases };
    }
    const condition = child(from, 'condition');
    if (!condition) this.refuse('a join without a condition', from);
    const pairs: { left: string; right: string }[] = [];
    const residual: Ast[] = [];
    const sideOf = (ref: Ast): 'left' | 'right' | undefined => {
      const names = list(ref.column_names) as unknown as string[];
      if (names.length !== 2) return undefined;
      const q = names[0]!.toLowerCase();
      if (left.aliases.has(q) && !right.aliases.has(q)) return 'left';
      if (right.aliases.has(q) && !left.aliases.has(q)) return 'right';
      return undefined;
    };
    for (const conjunct of conjuncts(condition)) {
      const a = child(conjunct, 'left');
      const b = child(conjunct, 'right');
      if (conjunct.type === 'COMPARE_EQUAL' && a?.class === 'COLUMN_REF' && b?.class === 'COLUMN_REF') {
        const name = (ast: Ast) => (list(ast.column_names) as unknown as string[]).at(-1)!;
        const sa = sideOf(a);
        const sb = sideOf(b);
        if (sa === 'left' && sb === 'right') pairs.push({ left: name(a), right: name(b) });
        else if (sa === 'right' && sb === 'left') pairs.push({ left: name(b), right: name(a) });
        else if (sa === undefined && sb === undefined && name(a).toLowerCase() === name(b).toLowerCase())
          pairs.push({ left: name(a), right: name(b) });
        else if (sa === sb) residual.push(conjunct);
        else this.fail('qualify both columns of a join equality with their table (a.k = b.k)', conjunct);
        continue;
      }
      residual.push(conjunct);
    }
    // Further conditions of an inner join filter after the equi-join; any other join is a join on the condition.
    if (pairs.length === 0 || (residual.length > 0 && how !== 'inner'))
      return this.conditionJoin(left, right, condition, how, clause, aliases);
    let plan: SqlPlan;
    if (pairs.every((p) => p.left.toLowerCase() === p.right.toLowerCase())) {
      // Keys of one name on both sides: the DataFrame join on those columns (each key once).
      plan = { kind: 'join', left: left.plan, right: right.plan, on: pairs.map((p) => p.left), how, clause };
    } else {
      // Keys of different names: both sides get the key under one name, joined on it, then dropped.
      const names = pairs.map((_, i) => `__jk${i}`);
      const keyed = (side: Relation, keys: string[]): SqlPlan => ({
        kind: 'select',
        child: side.plan,
        columns: [col('*'), ...keys.map((k, i) => alias(col(k), names[i]!))],
        clause,
      });
      plan = {
        kind: 'drop',
        child: {
          kind: 'join',
          left: keyed(
            left,
            pairs.map((p) => p.left),
          ),
          right: keyed(
            right,
            pairs.map((p) => p.right),
          ),
          on: names,
          how,
          clause,
        },
        names,
        clause,
      };
    }
    for (const extra of residual)
      plan = { kind: 'filter', child: plan, condition: this.expr(extra, aliases), clause };
    return { plan, aliases };
  }

  /**
   * `df.alias('a').join(other.alias('b'), condition, how)`: a side that is one table or subquery
   * is named by its alias and its columns are qualified with it; a side that is itself a join
   * leaves its columns unqualified (each belongs to the side that has it).
   */
  private conditionJoin(
    left: Relation,
    right: Relation,
    condition: Ast,
    how: JoinType,
    clause: string,
    aliases: ReadonlySet<string>,
  ): Relation {
    const named = (side: Relation): { plan: SqlPlan; name?: string } => {
      if (side.aliases.size !== 1) return { plan: side.plan };
      const name = [...side.aliases][0]!;
      return { plan: { kind: 'alias', child: side.plan, name, clause }, name };
    };
    const l = named(left);
    const r = named(right);
    const all = new Set([...left.aliases, ...right.aliases]);
    const reference = (ast: Ast): ColumnNode => {
      const names = list(ast.column_names) as unknown as string[];
      if (names.length === 1) return col(names[0]!);
      if (names.length !== 2) this.refuse('a column reference with a schema in a join condition', ast);
      const q = names[0]!.toLowerCase();
      const side = l.name === q ? l : r.name === q ? r : undefined;
      if (side) return col(`${q}.${names[1]!}`); // as col('a.k') after df.alias('a')
      if (all.has(q)) return col(names[1]!);
      return this.fail(`${names[0]!} in the join condition is not a table of this join`, ast);
    };
    const translate = (ast: Ast): ColumnNode => {
      const kids = list(ast.children);
      if (ast.class === 'COLUMN_REF') return reference(ast);
      if (ast.class === 'CONJUNCTION' && kids.length >= 2) {
        const op = ast.type === 'CONJUNCTION_AND' ? 'AND' : 'OR';
        return kids.map(translate).reduce((a, b): ColumnNode => ({ k: 'binary', op, left: a, right: b }));
      }
      if (ast.class === 'COMPARISON') {
        const a = translate(child(ast, 'left')!);
        const b = translate(child(ast, 'right')!);
        if (ast.type === 'COMPARE_DISTINCT_FROM')
          return { k: 'unary', op: 'not', child: { k: 'binary', op: '<=>', left: a, right: b } };
        const op = COMPARISONS[String(ast.type)];
        if (op) return { k: 'binary', op, left: a, right: b };
      }
      if (ast.class === 'OPERATOR' && kids.length === 1) {
        const op =
          ast.type === 'OPERATOR_NOT'
            ? 'not'
            : ast.type === 'OPERATOR_IS_NULL'
              ? 'isNull'
              : ast.type === 'OPERATOR_IS_NOT_NULL'
                ? 'isNotNull'
                : undefined;
        if (op) return { k: 'unary', op, child: translate(kids[0]!) };
      }
      if (ast.class === 'FUNCTION' && ast.is_operator === true && kids.length === 2) {
        const fn = String(ast.function_name);
        if (ARITHMETIC.has(fn) || fn === '~~')
          return {
            k: 'binary',
            op: fn === '~~' ? 'LIKE' : fn,
            left: translate(kids[0]!),
            right: translate(kids[1]!),
          };
      }
      // Anything else stays SQL text, its columns unqualified (each is on one side: see distinctColumns).
      return this.textOf(ast, all);
    };
    visit(
      condition,
      (n) => !this.isAggregate(n) || this.fail('an aggregate function in a join condition', n),
    );
    const on = translate(condition);
    const plan: SqlPlan = { kind: 'join', left: l.plan, right: r.plan, on: [], condition: on, how, clause };
    return { plan, aliases };
  }
}

/**
 * Translate one parsed statement of `text`. `aggregates` holds DuckDB's aggregate function names
 * (lower case). Throws SqlRefusal for a statement that is not a SELECT or uses a construct not
 * supported yet.
 */
export function translateStatement(
  text: string,
  statement: Ast,
  aggregates: ReadonlySet<string>,
): Translation {
  const node = child(statement, 'node');
  if (!node) throw new SqlRefusal('ctx.sql runs one SELECT query');
  const translator = new Translator(text, aggregates);
  const root = translator.query(node);
  return {
    plan: { root, ctes: translator.ctes },
    pending: translator.pending,
    finish: () => {
      for (const fix of translator.fixups) fix();
    },
  };
}
