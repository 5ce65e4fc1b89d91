/**
 * What a DataFrame write asks for (Spark's DataFrameWriter state): the format, the save mode,
 * the partition columns and the format's options; and the names Spark gives what it writes —
 * part files `part-00000-<writeId>.c000.snappy.parquet` and Hive-style partition folders
 * `col=value/`, with Spark's escaping of special characters and `__HIVE_DEFAULT_PARTITION__`
 * for null. Pure: the driver, the executors and the reader's partition discovery share it.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../../contract/errors.js';

/** The formats a DataFrame writes. */
export type WriteFormat = 'parquet' | 'csv' | 'json';

/** Spark's SaveMode: what a write does when its output already holds data. */
export type SaveMode = 'errorifexists' | 'overwrite' | 'append' | 'ignore';

/** The options a write's format takes (Spark's names; only those DuckDB can honour). */
export interface WriteOptions {
  /** CSV: write a header line first in every file (Spark's default: false). */
  header?: boolean;
  /** CSV: the field separator (default `,`). */
  sep?: string;
  /** CSV: the quote character (default `"`). */
  quote?: string;
  /** CSV: the escape character inside quotes (default `"`, as DuckDB; Spark's is `\`). */
  escape?: string;
  /** CSV: the text written for null (default empty). */
  nullValue?: string;
  /** The codec: Parquet snappy (default), gzip, zstd, none; CSV and JSON none (default), gzip, zstd. */
  compression?: string;
  /**
   * JSON: leave out the fields whose value is null, in nested structs too (Spark's default: true);
   * false writes them as `"x":null`.
   */
  ignoreNullFields?: boolean;
}

/** A write, as the write action's options carry it (JSON). */
export interface WriteSpec {
  format: WriteFormat;
  mode: SaveMode;
  /** The partition columns as the user named them (resolved against the schema on the driver). */
  partitionBy: string[];
  options: WriteOptions;
}

/** Spark's null (and empty string) partition value folder name. */
export const DEFAULT_PARTITION_NAME = '__HIVE_DEFAULT_PARTITION__';

const MODES: Readonly<Record<string, SaveMode>> = {
  errorifexists: 'errorifexists',
  error: 'errorifexists',
  default: 'errorifexists',
  overwrite: 'overwrite',
  append: 'append',
  ignore: 'ignore',
};

/** Spark's mode names (case-insensitive) → SaveMode; throws ConfigError naming the bad mode. */
export function saveModeOf(mode: string): SaveMode {
  const m = typeof mode === 'string' ? MODES[mode.toLowerCase()] : undefined;
  if (!m)
    throw new ConfigError(
      `write.mode: ${JSON.stringify(mode)} is not a save mode (use 'errorifexists', 'overwrite', 'append' or 'ignore')`,
    );
  return m;
}

const CODECS: Readonly<Record<WriteFormat, Readonly<Record<string, string | undefined>>>> = {
  // codec name → file name infix (undefined: none); DuckDB's COMPRESSION takes the codec name.
  parquet: { snappy: 'snappy', gzip: 'gz', zstd: 'zstd', none: undefined, uncompressed: undefined },
  csv: { none: undefined, uncompressed: undefined, gzip: 'gz', zstd: 'zst' },
  json: { none: undefined, uncompressed: undefined, gzip: 'gz', zstd: 'zst' },
};

/** The codec a write uses: the option, checked, or the format's default (snappy Parquet, plain text). */
export function compressionOf(format: WriteFormat, options: WriteOptions): string {
  const codec = (options.compression ?? (format === 'parquet' ? 'snappy' : 'none')).toLowerCase();
  if (!(codec in CODECS[format])) {
    throw new ConfigError(
      `write.${format}: compression ${JSON.stringify(options.compression)} is not supported (use ${Object.keys(CODECS[format]).join(', ')})`,
    );
  }
  return codec === 'uncompressed' ? 'none' : codec;
}

/** Check a write's options once, on the driver: unknown option names and bad values fail there. */
export function checkWriteOptions(format: WriteFormat, options: WriteOptions): void {
  const allowed =
    format === 'csv'
      ? ['header', 'sep', 'quote', 'escape', 'nullValue', 'compression']
      : format === 'json'
        ? ['compression', 'ignoreNullFields']
        : ['compression'];
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name))
      throw new ConfigError(
        `write.${format}: option ${JSON.stringify(name)} is not supported for ${format} (supported: ${allowed.join(', ')})`,
      );
  }
  for (const name of ['sep', 'quote', 'escape'] as const) {
    const v = options[name];
    if (v !== undefined && (typeof v !== 'string' || v.length !== 1))
      throw new ConfigError(`write.csv: option ${name} must be one character, got ${JSON.stringify(v)}`);
  }
  compressionOf(format, options);
}

/**
 * Spark's part file name: `part-00003-<writeId>.c000.snappy.parquet` (`.csv`, `.json`, with the
 * codec's infix when compressed). `fileIndex` counts the files one task writes into one folder.
 */
export function dataFramePartName(
  partition: number,
  writeId: string,
  fileIndex: number,
  format: WriteFormat,
  compression: string,
): string {
  const infix = CODECS[format][compression];
  const counter = `c${String(fileIndex).padStart(3, '0')}`;
  const base = `part-${String(partition).padStart(5, '0')}-${writeId}.${counter}`;
  if (format === 'parquet') return `${base}${infix ? `.${infix}` : ''}.parquet`;
  return `${base}.${format}${infix ? `.${infix}` : ''}`;
}

/** Characters Spark escapes in partition folder names (ExternalCatalogUtils): controls, DEL and the listed punctuation. */
function needsEscape(code: number): boolean {
  return (
    (code >= 0x01 && code <= 0x1f) || code === 0x7f || '"#%\'*/:=?\\{[]^'.includes(String.fromCharCode(code))
  );
}

/** Spark's escapePathName: each special character as `%XX` (upper-case hex). */
export function escapePartitionText(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += code < 0x80 && needsEscape(code) ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : ch;
  }
  return out;
}

/** Spark's unescapePathName: `%XX` back to its character; a `%` not followed by two hex digits stays. */
export function unescapePartitionText(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/**
 * The folder of one partition value tuple: `a=1/b=x%2Fy/` (values as text, null or empty as
 * `__HIVE_DEFAULT_PARTITION__`), or '' without partition columns.
 */
export function partitionFolder(columns: readonly string[], values: readonly (string | null)[]): string {
  return columns
    .map((c, i) => {
      const v = values[i] ?? null;
      const text = v === null || v === '' ? DEFAULT_PARTITION_NAME : escapePartitionText(v);
      return `${escapePartitionText(c)}=${text}/`;
    })
    .join('');
}

/**
 * The `col=value` segments of a file's folders below a scan's root (Hive partition discovery),
 * in order, unescaped; a null value for `__HIVE_DEFAULT_PARTITION__`. Segments without `=` are skipped.
 */
export function partitionSegments(relativePath: string): { name: string; value: string | null }[] {
  const parts = relativePath.split('/').slice(0, -1);
  const found: { name: string; value: string | null }[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const raw = part.slice(eq + 1);
    found.push({
      name: unescapePartitionText(part.slice(0, eq)),
      value: raw === DEFAULT_PARTITION_NAME ? null : unescapePartitionText(raw),
    });
  }
  return found;
}

/**
 * Spark's partition column type inference over one column's values as text: INTEGER, BIGINT,
 * DOUBLE, DATE, TIMESTAMP when every non-null value parses as one, else VARCHAR (all null: VARCHAR).
 */
export function inferPartitionType(values: readonly (string | null)[]): string {
  const present = values.filter((v): v is string => v !== null);
  if (present.length === 0) return 'VARCHAR';
  const all = (test: (v: string) => boolean) => present.every(test);
  const integral = (v: string) => /^-?\d+$/.test(v);
  if (all((v) => integral(v) && Math.abs(Number(v)) <= 2147483647)) return 'INTEGER';
  if (all((v) => integral(v) && BigInt(v) <= 9223372036854775807n && BigInt(v) >= -9223372036854775808n))
    return 'BIGINT';
  if (all((v) => /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v))) return 'DOUBLE';
  if (all((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)))) return 'DATE';
  if (all((v) => /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(v))) return 'TIMESTAMP';
  return 'VARCHAR';
}

/** The write spec a DataFrame write action carries (undefined for any other action). */
export function writeSpecOf(options: Readonly<Record<string, unknown>>): WriteSpec | undefined {
  const text = options.write;
  return typeof text === 'string' ? (JSON.parse(text) as WriteSpec) : undefined;
}

/** One file a write task stored: where it goes below the output, and where its bytes are now. */
export interface SavedFileEntry {
  /** `col=value/part-00000-<id>.c000.snappy.parquet` below the output. */
  path: string;
  records: number;
  bytes: number;
  /** Local targets: the attempt blob (data container) holding the file. */
  blob?: string;
  /** az:// targets: the uncommitted blocks staged on the final blob `<prefix><path>`. */
  stagedBlocks?: { token: string; count: number };
}

/** The manifest blob of one write task execution (JSON). */
export interface SavedFilesManifest {
  files: SavedFileEntry[];
}

/**
 * The id in a write's part file names (Spark puts a UUID there): derived from the write job's
 * attempt prefix, which names the application, run and job, so every attempt of every task of
 * one write uses the same id and two writes (appends) never share one.
 */
export function writeIdOf(attemptPrefix: string): string {
  const h = createHash('sha256').update(attemptPrefix).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The partition columns found in a scan's file paths, and each file's values (as text, null for the default partition). */
export interface DiscoveredPartitions {
  /** Column names (unescaped) in folder order, with Spark's inferred types (DuckDB names). */
  columns: { name: string; type: string }[];
}

/**
 * Spark's partition discovery over a scan's files (their full paths or `az://` addresses):
 * the `col=value` folder segments of every file, which must name the same columns in the same
 * order in every file (else CONFLICTING_PARTITIONS naming two files); types inferred from all
 * values. No segments: no partition columns.
 */
export function discoverPartitions(files: readonly string[]): DiscoveredPartitions {
  const first = files[0];
  if (first === undefined) return { columns: [] };
  const names = partitionSegments(first).map((s) => s.name);
  const values: (string | null)[][] = names.map(() => []);
  for (const file of files) {
    const segments = partitionSegments(file);
    const these = segments.map((s) => s.name);
    if (these.join('/') !== names.join('/')) {
      throw new ConfigError(
        `conflicting partition folders: ${first} has ${names.join(', ') || 'none'} but ${file} has ${these.join(', ') || 'none'} (Hive partition discovery needs the same col=value folders above every file)`,
        {},
      );
    }
    for (const [i, s] of segments.entries()) values[i]!.push(s.value);
  }
  return { columns: names.map((name, i) => ({ name, type: inferPartitionType(values[i]!) })) };
}

/** The values of `columns` in one file's path (last segment of each name wins), null when missing or default. */
export function partitionValuesOf(file: string, columns: readonly string[]): (string | null)[] {
  const segments = partitionSegments(file);
  return columns.map((c) => {
    const found = segments.filter((s) => s.name === c).pop();
    return found ? found.value : null;
  });
}
