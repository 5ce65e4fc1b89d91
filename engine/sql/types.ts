/**
 * DataFrame schemas: Spark's StructType/StructField with Spark's type names (`string`, `long`,
 * `double`, `decimal(10,2)`…), mapped one-to-one onto the DuckDB types the tasks run with. A
 * schema is plain JSON so it travels in stage programs and results.
 */
import { ConfigError } from '../../contract/errors.js';

/** One column of a schema: its name, its DuckDB type (`BIGINT`, `DECIMAL(10,2)`…) and whether it may be null. */
export interface StructField {
  /** The column's name. */
  readonly name: string;
  /** The DuckDB type name as DuckDB spells it (`VARCHAR`, `BIGINT`, `DOUBLE`, `DATE`…). */
  readonly type: string;
  /** Whether the column may hold null. */
  readonly nullable: boolean;
}

/** A DataFrame's schema: its columns in order (Spark's StructType). */
export interface StructType {
  /** The columns, in order. */
  readonly fields: readonly StructField[];
}

/** What a user may give as a schema: a DDL string (`id INT, name STRING`), `{ name: type }` or fields. */
export type SchemaInput = string | Readonly<Record<string, string>> | StructType;

const SPARK_TO_DUCKDB: Readonly<Record<string, string>> = {
  string: 'VARCHAR',
  varchar: 'VARCHAR',
  int: 'INTEGER',
  integer: 'INTEGER',
  long: 'BIGINT',
  bigint: 'BIGINT',
  short: 'SMALLINT',
  smallint: 'SMALLINT',
  byte: 'TINYINT',
  tinyint: 'TINYINT',
  double: 'DOUBLE',
  float: 'FLOAT',
  real: 'FLOAT',
  boolean: 'BOOLEAN',
  bool: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  binary: 'BLOB',
};

const DUCKDB_TO_SPARK: Readonly<Record<string, string>> = {
  VARCHAR: 'string',
  INTEGER: 'integer',
  BIGINT: 'long',
  HUGEINT: 'decimal(38,0)',
  SMALLINT: 'short',
  TINYINT: 'byte',
  UINTEGER: 'long',
  UBIGINT: 'decimal(20,0)',
  USMALLINT: 'integer',
  UTINYINT: 'short',
  DOUBLE: 'double',
  FLOAT: 'float',
  BOOLEAN: 'boolean',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamp',
  BLOB: 'binary',
};

/** The DuckDB type of a Spark type name (`long` → `BIGINT`, `decimal(10,2)` → `DECIMAL(10,2)`); throws ConfigError for an unknown one. */
export function duckdbTypeOf(sparkType: string, where: string): string {
  const t = sparkType.trim().toLowerCase();
  const decimal = /^(?:decimal|numeric)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(t);
  if (decimal) return `DECIMAL(${decimal[1] ?? '10'},${decimal[2] ?? '0'})`;
  const mapped = SPARK_TO_DUCKDB[t];
  if (!mapped) {
    throw new ConfigError(
      `${where}: unknown column type ${JSON.stringify(sparkType)} (use string, int, long, short, byte, double, float, boolean, date, timestamp, binary or decimal(p,s))`,
    );
  }
  return mapped;
}

/** The Spark name of a DuckDB type (`BIGINT` → `long`, `INTEGER[]` → `array<integer>`), as printSchema shows it. */
export function sparkTypeOf(duckdbType: string): string {
  const t = duckdbType.trim();
  if (t.endsWith('[]')) return `array<${sparkTypeOf(t.slice(0, -2))}>`;
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(t);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  return DUCKDB_TO_SPARK[t.toUpperCase()] ?? t.toLowerCase();
}

/** Split `a INT, b DECIMAL(10,2)` at the commas outside parentheses. */
function splitDdl(ddl: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of ddl) {
    if (c === '(' || c === '<') depth++;
    else if (c === ')' || c === '>') depth--;
    if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  if (current.trim().length > 0) parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** A schema from what the user gave (see SchemaInput); column types are checked, `where` names the call. */
export function toStructType(input: SchemaInput, where: string): StructType {
  if (typeof input === 'string') {
    const fields = splitDdl(input).map((part) => {
      const m = /^`?([^`\s]+)`?\s+(.+?)(\s+NOT\s+NULL)?$/i.exec(part);
      if (!m) throw new ConfigError(`${where}: cannot read column ${JSON.stringify(part)} of the schema`);
      return { name: m[1]!, type: duckdbTypeOf(m[2]!, where), nullable: m[3] === undefined };
    });
    return checkFields(fields, where);
  }
  if (input !== null && typeof input === 'object' && Array.isArray((input as StructType).fields)) {
    const fields = (input as StructType).fields.map((f) => ({
      name: f.name,
      type: normaliseDuckdbType(f.type, where),
      nullable: f.nullable !== false,
    }));
    return checkFields(fields, where);
  }
  if (input !== null && typeof input === 'object') {
    const fields = Object.entries(input as Record<string, string>).map(([name, type]) => ({
      name,
      type: duckdbTypeOf(type, where),
      nullable: true,
    }));
    return checkFields(fields, where);
  }
  throw new ConfigError(`${where}: a schema is a DDL string, an object of column types, or { fields }`);
}

/** Accept a field type given either as a Spark name or as a DuckDB name. */
function normaliseDuckdbType(type: string, where: string): string {
  const upper = type.trim().toUpperCase();
  if (DUCKDB_TO_SPARK[upper] !== undefined || /^DECIMAL\(\d+,\s*\d+\)$/.test(upper)) return upper;
  return duckdbTypeOf(type, where);
}

function checkFields(fields: StructField[], where: string): StructType {
  if (fields.length === 0) throw new ConfigError(`${where}: a schema needs at least one column`);
  const seen = new Set<string>();
  for (const f of fields) {
    const key = f.name.toLowerCase();
    if (seen.has(key))
      throw new ConfigError(`${where}: column ${JSON.stringify(f.name)} appears twice in the schema`);
    seen.add(key);
  }
  return { fields };
}

/** The field named `name` (case-insensitive, as Spark's default resolution), or undefined. */
export function fieldOf(schema: StructType, name: string): StructField | undefined {
  const key = name.toLowerCase();
  return schema.fields.find((f) => f.name.toLowerCase() === key);
}

/** Spark's printSchema tree: `root` then ` |-- name: type (nullable = true)` per column. */
export function schemaTreeString(schema: StructType): string {
  const lines = ['root'];
  for (const f of schema.fields)
    lines.push(` |-- ${f.name}: ${sparkTypeOf(f.type)} (nullable = ${f.nullable})`);
  return `${lines.join('\n')}\n`;
}

/** Spark's simpleString of a schema: `struct<id:long,name:string>`. */
export function schemaSimpleString(schema: StructType): string {
  return `struct<${schema.fields.map((f) => `${f.name}:${sparkTypeOf(f.type)}`).join(',')}>`;
}

/** A DuckDB identifier in double quotes (`"order"`), quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal in single quotes, quotes doubled. */
export function quoteString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
