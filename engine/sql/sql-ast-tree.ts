/**
 * Reading DuckDB's JSON parse tree (`json_serialize_sql`): fields that may be absent (DuckDB writes
 * them as null, '' or []), column references with their table qualifiers, shape comparison of
 * two expressions, and visiting or rewriting an expression's nodes. Pure helpers of sql-ast.ts.
 */

/** A node of DuckDB's JSON parse tree. */
export type Ast = { readonly [key: string]: unknown };

/** A non-empty string field, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** True when a field of the parse tree holds something (DuckDB writes absent ones as null, '' or []). */
export function present(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** An array field (empty when absent). */
export function list(value: unknown): Ast[] {
  return Array.isArray(value) ? (value as Ast[]) : [];
}

/** An object field, else undefined. */
export function child(ast: Ast, key: string): Ast | undefined {
  const v = ast[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Ast) : undefined;
}

/** A deep copy of `ast` without positions and aliases, for comparing two expressions. */
export function shapeKey(ast: Ast, aliases: ReadonlySet<string>): string {
  return JSON.stringify(stripped(ast, aliases, true));
}

/** A deep copy of `ast` with column references' table qualifiers (of `aliases`) removed. */
export function stripped(value: unknown, aliases: ReadonlySet<string>, forKey = false): unknown {
  if (Array.isArray(value)) return value.map((v) => stripped(v, aliases, forKey));
  if (value === null || typeof value !== 'object') return value;
  const ast = value as Ast;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ast)) {
    if (forKey && (k === 'query_location' || k === 'alias')) continue;
    out[k] = stripped(v, aliases, forKey);
  }
  if (ast.class === 'COLUMN_REF') {
    const names = list(ast.column_names) as unknown as string[];
    if (names.length === 2 && aliases.has(names[0]!.toLowerCase())) out.column_names = [names[1]];
    if (forKey) out.column_names = (out.column_names as string[]).map((n) => n.toLowerCase());
  }
  return out;
}

/** A column reference node to `name`, complete enough for DuckDB to print. */
export function columnRef(name: string): Ast {
  return { class: 'COLUMN_REF', type: 'COLUMN_REF', alias: '', query_location: 0, column_names: [name] };
}

/** The integer a constant node holds (`ORDER BY 2`, `LIMIT 5`), else undefined. */
export function integerConstant(ast: Ast | undefined): number | undefined {
  if (ast?.class !== 'CONSTANT') return undefined;
  const value = child(ast, 'value');
  const n = value?.value;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

/** The conditions an AND chain joins (the node itself when it is no AND). */
export function conjuncts(ast: Ast): Ast[] {
  if (ast.class === 'CONJUNCTION' && ast.type === 'CONJUNCTION_AND')
    return list(ast.children).flatMap(conjuncts);
  return [ast];
}

/** Visit every node of an expression, depth first; `fn` returning false skips the node's children. */
export function visit(ast: unknown, fn: (node: Ast) => unknown): void {
  if (Array.isArray(ast)) {
    for (const a of ast) visit(a, fn);
    return;
  }
  if (ast === null || typeof ast !== 'object') return;
  const node = ast as Ast;
  if (typeof node.class === 'string' && fn(node) === false) return;
  for (const v of Object.values(node)) if (v !== null && typeof v === 'object') visit(v, fn);
}

/** A copy of an expression with the nodes `fn` maps replaced (their children are not visited). */
export function replace(ast: Ast, fn: (node: Ast) => Ast | undefined): Ast {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object') return value;
    const node = value as Ast;
    if (typeof node.class === 'string') {
      const mapped = fn(node);
      if (mapped) return mapped;
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
  };
  return walk(ast) as Ast;
}
