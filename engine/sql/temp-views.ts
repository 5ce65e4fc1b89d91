/**
 * A job's SQL catalog (Spark's session catalog, reduced to temp views): the temp views a job
 * module defined (`df.createOrReplaceTempView('sales')`), and the driver's parses of the SQL
 * texts its builder passes to `ctx.sql`. Both are per graph builder, so a view is scoped to one
 * build of the job module, as Spark's temp views are to their session. A leaf: the DataFrame
 * API and the session import it.
 */
import { ConfigError } from '../../contract/errors.js';
import type { GraphBuilder } from '../dataset/graph-builder.js';
import type { LogicalPlan } from './logical-plan.js';
import type { ParsedSql } from './sql-plan.js';

/** The parses a build may use, and (on the driver's first pass) the texts it still needs. */
export interface SqlParses {
  /** SQL text → the driver's parse of it. */
  readonly parsed: Readonly<Record<string, ParsedSql>>;
  /** When set, a text without a parse is recorded here instead of failing (the driver's first pass). */
  readonly missing?: Set<string>;
}

interface Catalog {
  readonly views: Map<string, LogicalPlan>;
  parses: SqlParses;
  /** The parses this build used, by text (shipped to executors that rebuild the graph). */
  readonly used: Record<string, ParsedSql>;
}

const catalogs = new WeakMap<GraphBuilder, Catalog>();

function catalogOf(builder: GraphBuilder): Catalog {
  let catalog = catalogs.get(builder);
  if (!catalog) {
    catalog = { views: new Map(), parses: { parsed: {} }, used: {} };
    catalogs.set(builder, catalog);
  }
  return catalog;
}

/** Give a build the SQL parses it may use (buildJobGraph calls this before running the builder). */
export function attachSqlParses(builder: GraphBuilder, parses: SqlParses): void {
  catalogOf(builder).parses = parses;
}

/** The parses of the SQL texts a build used (empty when it ran no `ctx.sql`). */
export function usedSqlParses(builder: GraphBuilder): Readonly<Record<string, ParsedSql>> {
  return catalogOf(builder).used;
}

/**
 * The parse of `text` for this build; undefined on the driver's first pass (the text is then
 * recorded to be parsed). Throws when the build has no parse and is not collecting: the graph
 * is being rebuilt somewhere the driver's parses were not given.
 */
export function sqlParseOf(builder: GraphBuilder, text: string, label: string): ParsedSql | undefined {
  const catalog = catalogOf(builder);
  const parsed = Object.hasOwn(catalog.parses.parsed, text) ? catalog.parses.parsed[text] : undefined;
  if (parsed) {
    catalog.used[text] = parsed;
    return parsed;
  }
  if (catalog.parses.missing) {
    catalog.parses.missing.add(text);
    return undefined;
  }
  throw new ConfigError(
    `${label}: this build has no parse of the SQL text (ctx.sql is parsed by the driver before the graph is built)`,
  );
}

/** Spark's temp view names: letters, digits and underscores, not starting with a digit. */
const VIEW_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Define the temp view `name` as `plan` (createOrReplaceTempView, or createTempView when
 * `replace` is false, which refuses a name already defined). Names are case-insensitive.
 */
export function defineTempView(
  builder: GraphBuilder,
  name: string,
  plan: LogicalPlan,
  replace: boolean,
  label: string,
): void {
  if (typeof name !== 'string' || !VIEW_NAME.test(name)) {
    throw new ConfigError(
      `${label}: a temp view name is letters, digits and underscores, not starting with a digit (got ${JSON.stringify(name)})`,
    );
  }
  const views = catalogOf(builder).views;
  const key = name.toLowerCase();
  if (!replace && views.has(key)) {
    throw new ConfigError(
      `${label}: temp view ${JSON.stringify(name)} already exists (createOrReplaceTempView replaces it)`,
    );
  }
  views.set(key, plan);
}

/** The temp views defined so far, by lower-cased name. */
export function tempViews(builder: GraphBuilder): ReadonlyMap<string, LogicalPlan> {
  return catalogOf(builder).views;
}
