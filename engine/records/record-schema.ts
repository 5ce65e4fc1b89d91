/**
 * Schemas of file sources: `ctx.csv(path, { schema })` and `ctx.jsonLines(path, { schema })`
 * take any Standard Schema (zod ≥ 3.24, valibot, arktype…), the same interface job params
 * accept (dataset/job-params.ts). Each record is validated as it is read, inside the task; the
 * schema's output becomes the record, and its output type the dataset's element type. A record
 * the schema rejects is a bad record: the source's `badRecords` policy fails the task or skips
 * and counts it, and the reason names the column (CSV) or field (JSON) the schema complained of.
 *
 * The schema object lives in the builder, like a closure: the driver and every executor build
 * it the same way, and the graph node records only its vendor (docs/decisions.md).
 * Validation must be synchronous: one await per record would cost more than the parse itself.
 */
import { ConfigError } from '../../contract/errors.js';
import type { ParamsIssue, ParamsOutput, ParamsSchema } from '../dataset/job-params.js';
import { RecordRejected } from './record-formats.js';

/** A schema a source validates each record with: a Standard Schema v1 whose output is the record. */
export type RecordSchema<Output = unknown> = ParamsSchema<unknown, Output>;

/** The record type a schema gives (its output type; `unknown` when the schema does not say). */
export type RecordSchemaOutput<S extends RecordSchema> = ParamsOutput<S>;

/** What a schema's issue paths name: a CSV row's columns, or a JSON value's fields. */
export type RecordParts = 'column' | 'field';

/** Throws ConfigError unless `schema` is a Standard Schema (checked when the job is built). */
export function checkRecordSchema(schema: unknown, source: string): asserts schema is RecordSchema {
  const standard = (schema as { '~standard'?: { validate?: unknown } } | null)?.['~standard'];
  if (typeof standard?.validate !== 'function')
    throw new ConfigError(
      `${source}: schema must be a Standard Schema (a zod, valibot or arktype schema: an object with '~standard'.validate)`,
    );
}

/** The schema's library, for the graph node's options (the schema itself is not JSON). */
export function recordSchemaVendor(schema: RecordSchema): string {
  const vendor = schema['~standard'].vendor;
  return typeof vendor === 'string' && vendor.length > 0 ? vendor : 'standard-schema';
}

/** At most this many of a record's issues are named in its reason. */
const MAX_ISSUES = 3;

/** `items[2].sku` for an issue path; undefined for the record as a whole. */
function issueTarget(path: ParamsIssue['path']): string | undefined {
  let out = '';
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    if (typeof key === 'number') out += out.length === 0 ? String(key) : `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key))
      out += out.length === 0 ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out.length === 0 ? undefined : out;
}

/** `column amount: Invalid input: expected number, received string; …` for a rejected record. */
export function describeIssues(issues: ReadonlyArray<ParamsIssue>, parts: RecordParts): string {
  if (issues.length === 0) return `the schema rejected the ${parts === 'column' ? 'row' : 'value'}`;
  const named = issues.slice(0, MAX_ISSUES).map((issue) => {
    const target = issueTarget(issue.path);
    return target === undefined ? `schema: ${issue.message}` : `${parts} ${target}: ${issue.message}`;
  });
  if (issues.length > MAX_ISSUES) named.push(`and ${issues.length - MAX_ISSUES} more`);
  return named.join('; ');
}

/**
 * The per-record check of a source with a schema: returns the schema's output for a record,
 * throws RecordRejected (a bad record, named by the decoder) when the schema has issues, and
 * ConfigError (not retryable: every attempt would do the same) when it validates asynchronously.
 */
export function recordValidator(
  schema: RecordSchema,
  parts: RecordParts,
  sourceLabel: string,
): (record: unknown) => unknown {
  // Called as a method: a library's validate may use `this`.
  const standard = schema['~standard'];
  return (record) => {
    const result = standard.validate(record);
    if (typeof (result as { then?: unknown }).then === 'function') {
      // Deliberately dropped: the task fails just below; a rejection must not go unhandled.
      (result as Promise<unknown>).then(undefined, () => {});
      throw new ConfigError(
        `${sourceLabel}: its schema validates asynchronously (an async refinement or transform); a source's schema must validate each record synchronously`,
      );
    }
    const sync = result as Exclude<typeof result, Promise<unknown>>;
    if (sync.issues === undefined) return sync.value;
    throw new RecordRejected(describeIssues(sync.issues, parts));
  };
}
