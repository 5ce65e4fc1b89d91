/**
 * The CSV input format: one record per line by default (Spark's `multiLine = false`), fields
 * parsed by csv-parse (RFC 4180 quoting: `"a ""quoted"" field, with a delimiter"`), rows turned into
 * objects keyed by column name (from the header, the `columns` option, or the columns the
 * driver read from the first file's header) or into arrays of strings when no names are
 * known, and values converted by the `types` option, then validated by the source's schema
 * when it has one (record-schema.ts).
 *
 * A header exists only at the start of a file, so only a split beginning a file (offset 0)
 * drops its first non-empty line; every other split gets the column names from the driver
 * (SourceSplitStart.columns). A quoted field that is not closed on its line is a bad record
 * naming the reason, never a silently wrong row: byte-range splits cut at '\n', so records
 * containing newlines cannot be split correctly. With `multiLine: true` (as Spark's option)
 * a quoted field may span lines: the driver then reads every file whole, one partition
 * each, and a record continues over the following lines until its quotes close.
 */
import { parse } from 'csv-parse/sync';
import { ConfigError, StratusError } from '../../contract/errors.js';
import type { OptionValue } from '../plan/option-value.js';
import {
  type BadRecords,
  describeRecordPosition,
  type LineBatch,
  RecordRejected,
  type SplitPosition,
} from './record-formats.js';

/** How a CSV column's text is converted: kept, parsed as a number, or as true/false. */
export type CsvColumnType = 'string' | 'number' | 'boolean';

/** The CSV format of a source, validated and JSON-describable (what the graph node records). */
export interface CsvFormat {
  /** The first line of each file holds the column names. */
  readonly header: boolean;
  /** Column names given by the user (they win over the header's). */
  readonly columns: readonly string[] | undefined;
  /** Per-column types (by name, or by index for rows without names), per-value inference, or none. */
  readonly types: Readonly<Record<string, CsvColumnType>> | 'infer' | undefined;
  readonly delimiter: string;
  /** Quoted fields may contain line breaks; files are then not split. */
  readonly multiLine: boolean;
}

/** Longest record (characters) a multiLine source gathers before calling it a bad record. */
export const MAX_MULTILINE_RECORD_CHARS = 16 * 1024 * 1024;

const TYPES = new Set<string>(['string', 'number', 'boolean']);

/** Check user CSV options (throws ConfigError naming the option) and normalise them. */
export function csvFormatOf(
  uri: string,
  options: {
    header?: boolean | undefined;
    columns?: readonly string[] | undefined;
    types?: Readonly<Record<string, CsvColumnType>> | 'infer' | undefined;
    delimiter?: string | undefined;
    multiLine?: boolean | undefined;
  },
): CsvFormat {
  const fail = (what: string) => new ConfigError(`csv(${uri}): ${what}`);
  const header = options.header ?? false;
  if (typeof header !== 'boolean') throw fail('header must be true or false');
  const multiLine = options.multiLine ?? false;
  if (typeof multiLine !== 'boolean') throw fail('multiLine must be true or false');
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length === 0 || /["\r\n]/.test(delimiter))
    throw fail('delimiter must be a non-empty string without quotes or newlines');
  let columns: string[] | undefined;
  if (options.columns !== undefined) {
    if (
      !Array.isArray(options.columns) ||
      options.columns.length === 0 ||
      options.columns.some((c) => typeof c !== 'string')
    )
      throw fail('columns must be a non-empty array of strings');
    if (new Set(options.columns).size !== options.columns.length) throw fail('columns has a duplicate name');
    columns = [...options.columns];
  }
  let types: Record<string, CsvColumnType> | 'infer' | undefined;
  if (options.types === 'infer') types = 'infer';
  else if (options.types !== undefined) {
    if (typeof options.types !== 'object' || options.types === null || Array.isArray(options.types))
      throw fail("types must be 'infer' or an object mapping columns to 'string' | 'number' | 'boolean'");
    types = {};
    for (const [column, type] of Object.entries(options.types)) {
      if (!TYPES.has(type))
        throw fail(`types.${column} must be 'string', 'number' or 'boolean', got ${String(type)}`);
      if (columns && !columns.includes(column)) throw fail(`types names ${column}, which is not in columns`);
      if (!header && !columns && !/^\d+$/.test(column))
        throw fail(
          `types names ${column}, but rows without header or columns are arrays: use column indices`,
        );
      types[column] = type;
    }
  }
  return { header, columns, types, delimiter, multiLine };
}

/** The format as JSON node options (hashed into the graph's fingerprint). */
export function csvFormatOptions(format: CsvFormat): Record<string, OptionValue> {
  const types: OptionValue =
    format.types === undefined || format.types === 'infer'
      ? (format.types ?? null)
      : Object.entries(format.types).map(([c, t]) => [c, t]);
  return {
    header: format.header,
    columns: format.columns ?? null,
    types,
    delimiter: format.delimiter,
    multiLine: format.multiLine,
  };
}

/** Column names from a header row, made unique as Spark does: empty → `_c<i>`, a repeat gets its index appended. */
export function columnsFromHeader(fields: readonly string[]): string[] {
  const named = fields.map((f, i) => (f.length === 0 ? `_c${i}` : f));
  const counts = new Map<string, number>();
  for (const n of named) counts.set(n, (counts.get(n) ?? 0) + 1);
  return named.map((n, i) => (counts.get(n)! > 1 ? `${n}${i}` : n));
}

/**
 * The header of a CSV file among the lines of the split that begins it (BOM and '\r'
 * removed): the first non-empty line, since empty lines are not records anywhere in a file,
 * before the header included. Returns its index in `lines`, or -1 when every line is empty.
 * The driver (reading the column names once) and CsvDecoder (dropping the header line) both
 * decide with this function, so they agree on which line is the header.
 */
export function csvHeaderIndex(lines: readonly string[]): number {
  for (let i = 0; i < lines.length; i++) if (lines[i]!.length > 0) return i;
  return -1;
}

/** Split one CSV header line into column names (for the driver). Throws CSV_BAD_HEADER naming the file. */
export function parseCsvHeader(line: string, format: CsvFormat, file: string): string[] {
  const fields = parseRow(line, format);
  if (!Array.isArray(fields))
    throw new StratusError('CSV_BAD_HEADER', `csv header of ${file} does not parse: ${fields.reason}`);
  return columnsFromHeader(fields);
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEAN = /^(?:true|false)$/i;

function parseOptions(format: CsvFormat) {
  return { delimiter: format.delimiter, record_delimiter: '\n', relax_column_count: true } as const;
}

/** Why a line (or, with multiLine, lines) did not parse; `unclosed` when a quote is still open at its end. */
interface RowFailure {
  reason: string;
  unclosed: boolean;
}

const UNCLOSED_REASON =
  'a quoted field is not closed on its line (stratus reads CSV one line per record, as Spark with multiLine=false: use multiLine: true for quoted fields containing line breaks)';

/** The fields of one record's text, or why it does not parse. */
function parseRow(text: string, format: CsvFormat): string[] | RowFailure {
  try {
    const rows = parse(text, parseOptions(format));
    if (rows.length !== 1) return { reason: `expected one record, found ${rows.length}`, unclosed: false };
    return rows[0]!;
  } catch (error) {
    if ((error as { code?: string }).code === 'CSV_QUOTE_NOT_CLOSED')
      return { reason: UNCLOSED_REASON, unclosed: true };
    return { reason: (error as Error).message, unclosed: false };
  }
}

function convert(text: string, type: CsvColumnType | 'infer', column: string): unknown {
  switch (type) {
    case 'string':
      return text;
    case 'number': {
      if (text.length === 0) return null;
      const value = NUMBER.test(text.trim()) ? Number(text) : Number.NaN;
      if (!Number.isFinite(value))
        throw new RecordRejected(`column ${column}: ${JSON.stringify(text)} is not a number`);
      return value;
    }
    case 'boolean':
      if (text.length === 0) return null;
      if (!BOOLEAN.test(text.trim()))
        throw new RecordRejected(`column ${column}: ${JSON.stringify(text)} is not true or false`);
      return text.trim().toLowerCase() === 'true';
    case 'infer': {
      if (text.length === 0) return null;
      const t = text.trim();
      if (NUMBER.test(t)) {
        const n = Number(t);
        if (Number.isFinite(n)) return n;
      }
      if (BOOLEAN.test(t)) return t.toLowerCase() === 'true';
      return text;
    }
  }
}

/**
 * Decodes the lines of a partition into CSV records, split by split. One per task: it keeps
 * the columns of the current split and, with multiLine, the record still open.
 */
export class CsvDecoder {
  private split: SplitPosition | undefined;
  private columns: readonly string[] | undefined;
  private headerPending = false;
  /** The split needs column names (header: true, not the file's start) and has none. */
  private columnsMissing = false;
  /** multiLine: the text of a record whose quotes are still open, and where its first line is. */
  private open: { text: string; batch: LineBatch; index: number } | undefined;

  /** `validate`: the source's schema (record-schema.ts), applied to each row after `types`. */
  constructor(
    private readonly format: CsvFormat,
    private readonly sourceLabel: string,
    private readonly validate?: (row: unknown) => unknown,
  ) {}

  private enterSplit(split: SplitPosition): void {
    this.split = split;
    this.headerPending = this.format.header && split.offset === 0;
    this.columns = this.format.columns ?? split.columns;
    // Only a record needs the names: a split of nothing but empty lines is fine without them.
    this.columnsMissing = this.format.header && !this.headerPending && !this.columns;
    if (this.columns) this.checkTypes(this.columns);
  }

  private failColumnsMissing(split: SplitPosition): never {
    throw new StratusError(
      'CSV_HEADER_UNKNOWN',
      `${this.sourceLabel}: the split of ${split.file} at byte ${split.offset} has no header line and no column names were given to it (the driver reads them from the first file's header; or pass columns)`,
    );
  }

  private checkTypes(columns: readonly string[]): void {
    const types = this.format.types;
    if (types === undefined || types === 'infer') return;
    for (const column of Object.keys(types)) {
      if (!columns.includes(column))
        throw new StratusError(
          'CONFIG',
          `${this.sourceLabel}: types names column ${column}, which is not among the columns ${columns.join(', ')}`,
        );
    }
  }

  /** The records of one batch of lines; bad rows go to `bad` (which throws under 'fail'). */
  decode(batch: LineBatch, bad: BadRecords): unknown[] {
    if (batch.split !== this.split) {
      this.end(bad);
      this.enterSplit(batch.split);
    }
    const { lines } = batch;
    let first = 0;
    if (this.headerPending) {
      first = csvHeaderIndex(lines);
      if (first < 0) return [];
      this.headerPending = false;
      if (!this.columns) this.enterHeader(batch, first);
      first++;
    }
    if (this.columnsMissing) {
      for (let i = first; i < lines.length; i++)
        if (lines[i]!.length > 0) this.failColumnsMissing(batch.split);
    }
    const out: unknown[] = [];
    if (!this.open) {
      const texts: string[] = [];
      const indices: number[] = [];
      for (let i = first; i < lines.length; i++) {
        if (lines[i]!.length === 0) continue; // empty lines are not records (as Spark)
        texts.push(lines[i]!);
        indices.push(i);
      }
      if (texts.length === 0) return out;
      // One parse per batch: when every line is exactly one record (the usual case) we are done.
      let rows: string[][] | undefined;
      try {
        rows = parse(texts.join('\n'), parseOptions(this.format));
      } catch {
        rows = undefined;
      }
      if (rows && rows.length === texts.length) {
        for (const [i, fields] of rows.entries()) this.emit(fields, batch, indices[i]!, texts[i]!, bad, out);
        return out;
      }
      if (!this.format.multiLine) {
        // Line by line, to name the bad ones.
        for (const [i, text] of texts.entries()) {
          const fields = parseRow(text, this.format);
          if (Array.isArray(fields)) this.emit(fields, batch, indices[i]!, text, bad, out);
          else bad.report(batch, indices[i]!, fields.reason, text);
        }
        return out;
      }
    }
    // multiLine: a record goes on over the next lines (empty ones too) while a quote is open.
    for (let i = first; i < lines.length; i++) {
      const line = lines[i]!;
      if (this.open) this.open.text += `\n${line}`;
      else if (line.length === 0) continue;
      else this.open = { text: line, batch, index: i };
      const record = this.open;
      const fields = parseRow(record.text, this.format);
      if (!Array.isArray(fields) && fields.unclosed) {
        if (record.text.length <= MAX_MULTILINE_RECORD_CHARS) continue;
        this.open = undefined;
        bad.report(
          record.batch,
          record.index,
          `a record longer than ${MAX_MULTILINE_RECORD_CHARS} characters (a quote never closes?)`,
          record.text,
        );
        continue;
      }
      this.open = undefined;
      if (Array.isArray(fields)) this.emit(fields, record.batch, record.index, record.text, bad, out);
      else bad.report(record.batch, record.index, fields.reason, record.text);
    }
    return out;
  }

  /** End of a split or of the partition: a multiLine record still open is a bad record. */
  end(bad: BadRecords): void {
    const record = this.open;
    if (!record || !this.split) return;
    this.open = undefined;
    bad.report(
      record.batch,
      record.index,
      'a quoted field is not closed before the end of the file',
      record.text,
    );
  }

  private emit(
    fields: string[],
    batch: LineBatch,
    index: number,
    text: string,
    bad: BadRecords,
    out: unknown[],
  ): void {
    try {
      const row = this.record(fields);
      out.push(this.validate ? this.validate(row) : row);
    } catch (error) {
      if (!(error instanceof RecordRejected)) throw error;
      bad.report(batch, index, error.message, text);
    }
  }

  private enterHeader(batch: LineBatch, index: number): void {
    const fields = parseRow(batch.lines[index]!, this.format);
    if (!Array.isArray(fields)) {
      throw new StratusError(
        'CSV_BAD_HEADER',
        `${this.sourceLabel}: the header in ${describeRecordPosition(batch, index)} does not parse: ${fields.reason}`,
      );
    }
    this.columns = columnsFromHeader(fields);
    this.checkTypes(this.columns);
  }

  private record(fields: string[]): unknown {
    const { types } = this.format;
    const columns = this.columns;
    if (!columns) {
      if (types === undefined) return fields;
      return fields.map((f, i) =>
        convert(f, types === 'infer' ? 'infer' : (types[String(i)] ?? 'string'), String(i)),
      );
    }
    if (fields.length !== columns.length)
      throw new RecordRejected(
        `expected ${columns.length} fields (${columns.join(', ')}), found ${fields.length}`,
      );
    const entries = columns.map((c, i): [string, unknown] => {
      const type = types === undefined ? 'string' : types === 'infer' ? 'infer' : (types[c] ?? 'string');
      return [c, convert(fields[i]!, type, c)];
    });
    // fromEntries defines own properties: a column named __proto__ stays a column.
    return Object.fromEntries(entries);
  }
}
