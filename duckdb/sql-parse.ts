/**
 * The driver's parse of `ctx.sql` texts: DuckDB's parser turns each text into its JSON parse tree
 * (`json_serialize_sql`), engine/sql/sql-ast.ts translates the tree into DataFrame operators, and
 * DuckDB prints back the SQL of every expression the translation keeps as text
 * (`json_deserialize_sql`). A syntax error or a construct not supported yet becomes the error
 * `ctx.sql` raises, with its line, column and a caret under the place in the text. Runs on the
 * driver only; executors get the result, never the SQL to parse.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { type Ast, SqlRefusal, translateStatement } from '../engine/sql/sql-ast.js';
import { type ParsedSql, sqlExcerpt } from '../engine/sql/sql-plan.js';
import { withSession } from './session.js';

async function serialize(connection: DuckDBConnection, text: string): Promise<Ast> {
  const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS ast', [text]);
  const row = reader.getRowObjectsJson()[0] as { ast: string };
  return JSON.parse(row.ast) as Ast;
}

/** A copy with every query_location 0: positions past 2^53 do not survive JSON.parse, and printing needs none. */
function withoutPositions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPositions);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'query_location' ? 0 : withoutPositions(v)]),
  );
}

/** The SQL DuckDB prints for one expression of a parse tree. */
async function printExpression(connection: DuckDBConnection, template: Ast, ast: Ast): Promise<string> {
  const statement = structuredClone(template) as { statements: { node: Record<string, unknown> }[] };
  statement.statements[0]!.node.select_list = [withoutPositions(ast)];
  const reader = await connection.runAndReadAll('SELECT json_deserialize_sql($1::VARCHAR::JSON) AS text', [
    JSON.stringify(statement),
  ]);
  const text = (reader.getRowObjectsJson()[0] as { text: string }).text;
  if (!text.startsWith('SELECT ')) throw new Error(`internal: DuckDB printed ${text} for an expression`);
  return text.slice('SELECT '.length);
}

async function parseOne(
  connection: DuckDBConnection,
  text: string,
  aggregates: ReadonlySet<string>,
  template: Ast,
): Promise<ParsedSql> {
  const tree = await serialize(connection, text);
  if (tree.error === true) {
    const message = String(tree.error_message ?? 'the query does not parse');
    const position = Number(tree.position);
    if (tree.error_type === 'parser' && Number.isInteger(position))
      return { ok: false, error: `${message} ${sqlExcerpt(text, position)}` };
    if (/Only SELECT statements/i.test(message))
      return {
        ok: false,
        error:
          'ctx.sql runs SELECT queries only (no DDL or DML: define views with df.createOrReplaceTempView)',
      };
    return { ok: false, error: message };
  }
  const statements = Array.isArray(tree.statements) ? (tree.statements as Ast[]) : [];
  if (statements.length !== 1)
    return {
      ok: false,
      error: `ctx.sql runs one SELECT query, the text has ${statements.length} statements`,
    };
  try {
    const translation = translateStatement(text, statements[0]!, aggregates);
    for (const pending of translation.pending)
      pending.node.text = await printExpression(connection, template, pending.ast);
    translation.finish();
    return { ok: true, plan: translation.plan };
  } catch (error) {
    if (error instanceof SqlRefusal) return { ok: false, error: error.message };
    throw error;
  }
}

/** Parse and translate each SQL text; the result holds a plan or the error ctx.sql raises, by text. */
export async function parseSqlTexts(texts: Iterable<string>): Promise<Record<string, ParsedSql>> {
  return withSession({ memoryLimitBytes: 64 * 1024 * 1024 }, async (connection) => {
    const functions = await connection.runAndReadAll(
      "SELECT DISTINCT lower(function_name) AS name FROM duckdb_functions() WHERE function_type = 'aggregate'",
    );
    const aggregates = new Set((functions.getRowObjectsJson() as { name: string }[]).map((r) => r.name));
    const template = withoutPositions(await serialize(connection, 'SELECT 1')) as Ast;
    const out: Record<string, ParsedSql> = {};
    for (const text of texts) out[text] = await parseOne(connection, text, aggregates, template);
    return out;
  });
}
