/**
 * Options of the file sources and the record types they give. A source's element type is
 * computed from the options it was given — the schema's output type, or a type mapped from the
 * CSV column types — and from nothing else: `ctx.csv` and `ctx.jsonLines` have no type
 * parameter of their own that a caller could set to claim a record type nobody checks
 * (`ctx.csv<Sale>(path)` does not compile). Without a schema or types a CSV row is strings
 * (`Record<string, string>`, or `string[]` without column names) and a JSON line a JsonValue.
 * The runtime side of each option is engine/records/csv.ts and engine/records/record-schema.ts.
 */
import type { CsvColumnType } from '../records/csv.js';
import type { BadRecordPolicy } from '../records/record-formats.js';
import type { RecordSchema, RecordSchemaOutput } from '../records/record-schema.js';

/** Options of file sources. */
export interface FileSourceOptions {
  /** At least this many partitions (Spark's default: min(defaultParallelism, 2)). */
  minPartitions?: number;
}

/** Options of sources that parse records (jsonLines, csv). */
export interface ParsedSourceOptions extends FileSourceOptions {
  /**
   * A record that does not parse, convert or pass the schema fails the task naming file, byte
   * offset, line and reason ('fail', the default), or is dropped and counted in the
   * accumulator `badRecords:<uri>` ('skip'), which the run summary shows.
   */
  badRecords?: BadRecordPolicy;
}

/** Options of the jsonLines source. */
export interface JsonLinesSourceOptions extends ParsedSourceOptions {
  /**
   * A Standard Schema (zod, valibot, arktype…) each value is validated with; its output is the
   * record and its output type the dataset's element type. Must validate synchronously.
   */
  schema?: RecordSchema;
}

/** Options of the CSV source (see engine/records/csv.ts and docs/partitioning.md). */
export interface CsvSourceOptions extends ParsedSourceOptions {
  /** The first line of each file names the columns (default false). */
  header?: boolean;
  /** Column names (they win over the header's); rows are objects when names are known, string arrays otherwise. */
  columns?: readonly string[];
  /**
   * Per-column conversion (by name, or by index for rows without names; an empty number or
   * boolean field is null), or per-value inference ('' → null, numbers, true/false); default:
   * strings. A field that does not convert is a bad record naming its column.
   */
  types?: Readonly<Record<string, CsvColumnType>> | 'infer';
  /**
   * A Standard Schema each row is validated with, after `types`: its output is the record and
   * its output type the dataset's element type. Must validate synchronously.
   */
  schema?: RecordSchema;
  /** Field delimiter (default ','). */
  delimiter?: string;
  /**
   * Quoted fields may contain line breaks (Spark's multiLine). Files are then read whole, one
   * partition each; without it such a record is a bad record.
   */
  multiLine?: boolean;
}

/** A value JSON.parse can return: the records of a jsonLines source without a schema. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A field of a CSV row with `types: 'infer'`: '' is null, numbers and true/false are converted. */
export type CsvCell = string | number | boolean | null;

/** What a CSV column of type `C` holds: an empty number or boolean field is null. */
export type CsvValue<C extends CsvColumnType> = C extends 'number'
  ? number | null
  : C extends 'boolean'
    ? boolean | null
    : string;

/** Per-column types by column name (or index): the record form of the csv `types` option. */
export type CsvColumnTypes = Readonly<Record<string, CsvColumnType>>;

/**
 * The type of option `K` in options `O`; undefined when `O` does not have it. (Read by key, not
 * by `O extends { k?: … }`: an object type of optional properties only is a "weak type", which
 * options without any of them do not extend.)
 */
export type SourceOption<O, K extends string> = K extends keyof O ? O[K] : undefined;

/** The record type of a source with options `O`: the schema's output, `Otherwise` without one. */
export type SourceRecord<O, Otherwise> = [SourceOption<O, 'schema'>] extends [undefined]
  ? Otherwise
  : [SourceOption<O, 'schema'>] extends [infer S extends RecordSchema]
    ? RecordSchemaOutput<S>
    : [Exclude<SourceOption<O, 'schema'>, undefined>] extends [infer S extends RecordSchema]
      ? Otherwise | RecordSchemaOutput<S>
      : Otherwise;

/** True when rows have column names (a header or columns), false when not, boolean when unknown. */
export type CsvHasColumnNames<O> = [SourceOption<O, 'columns'>] extends [undefined]
  ? [SourceOption<O, 'header'>] extends [true]
    ? true
    : [SourceOption<O, 'header'>] extends [false | undefined]
      ? false
      : boolean
  : [SourceOption<O, 'columns'>] extends [readonly string[]]
    ? true
    : boolean;

/** The column names the options list, as literal types; `string` when they are not known. */
export type CsvColumnNames<O> = [SourceOption<O, 'columns'>] extends [infer C extends readonly string[]]
  ? string extends C[number]
    ? string
    : C[number]
  : string;

/** A row with column names. Typed columns are checked (csv.ts refuses types naming a missing column). */
export type CsvNamedRow<O, T = SourceOption<O, 'types'>> = [T] extends [undefined]
  ? Record<CsvColumnNames<O>, string>
  : [T] extends ['infer']
    ? Record<CsvColumnNames<O>, CsvCell>
    : [T] extends [infer Types extends CsvColumnTypes]
      ? string extends CsvColumnNames<O>
        ? { -readonly [K in keyof Types]: CsvValue<Types[K]> }
        : { -readonly [K in CsvColumnNames<O>]: K extends keyof Types ? CsvValue<Types[K]> : string }
      : Record<CsvColumnNames<O>, CsvCell>;

/** A row without column names: an array of fields, typed by index where `types` says. */
export type CsvArrayRow<O, T = SourceOption<O, 'types'>> = [T] extends [undefined]
  ? string[]
  : [T] extends ['infer']
    ? CsvCell[]
    : [T] extends [infer Types extends CsvColumnTypes]
      ? Array<string | CsvValue<Types[keyof Types]>> & { -readonly [K in keyof Types]: CsvValue<Types[K]> }
      : CsvCell[];

/**
 * The record type of `ctx.csv(path, options)` for options of type `O`: the schema's output
 * type; else rows by column name (a header or columns) or arrays (neither), of strings unless
 * `types` converts them.
 */
export type CsvRecord<O extends CsvSourceOptions> = SourceRecord<
  O,
  CsvHasColumnNames<O> extends true
    ? CsvNamedRow<O>
    : CsvHasColumnNames<O> extends false
      ? CsvArrayRow<O>
      : CsvNamedRow<O> | CsvArrayRow<O>
>;

/** The record type of `ctx.jsonLines(path, options)`: the schema's output type, else JsonValue. */
export type JsonLinesRecord<O extends JsonLinesSourceOptions> = SourceRecord<O, JsonValue>;
