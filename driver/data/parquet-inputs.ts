/**
 * The splits of a DataFrame's Parquet input (Spark's ParquetFileFormat + FilePartition rules):
 * the driver reads each file's footer by range — its last 8 bytes give the footer's length, then
 * the footer itself; a local file where it lies, a blob by two range reads — and never the rest.
 * From the footers it checks that the files share one schema (or merges them, `mergeSchema`),
 * drops the row groups whose statistics rule out every pushed-down filter
 * (engine/sql/parquet-pruning.ts), and packs the remaining row groups of each file into splits of
 * about the target split size, as text files are cut (input-splitter.ts splitGoal). A task then
 * fetches only its row groups' column chunks and the footer (executor-function/parquet-fetch.ts).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnalysisError, fieldsText } from '../../duckdb/binder.js';
import {
  ParquetCorruptError,
  type ParquetFooter,
  type ParquetRowGroup,
  readParquetFooter,
} from '../../duckdb/parquet-footer.js';
import type { SourceNodeInfo } from '../../engine/plan/source-node.js';
import type { InputSplit } from '../../engine/plan/stage-descriptor.js';
import type { RelationalFragment } from '../../engine/sql/fragment.js';
import { pushedFilters, rowGroupMayMatch } from '../../engine/sql/parquet-pruning.js';
import type { StructField, StructType } from '../../engine/sql/types.js';
import type { BlobStore } from '../../storage/blob-store.js';
import {
  type InputSplit as FileInputSplit,
  type ResolveInputOptions,
  resolveInput,
} from './input-sources.js';
import { DEFAULT_SPLIT_BYTES, splitGoal } from './input-splitter.js';

/** What the driver found planning a Parquet scan: for the binder, explain() and the event log. */
export interface ParquetScanPlan {
  /** The scan's columns: the first file's, or the merged ones (mergeSchema). */
  schema: StructType;
  files: number;
  rowGroups: number;
  /** Row groups no task reads: their statistics rule out the pushed filters. */
  skippedRowGroups: number;
  splits: number;
  /** Footer bytes the driver read, all files together. */
  footerBytes: number;
  /**
   * The bytes of every column chunk of the row groups not skipped (compressed, as stored): what
   * the scan's tasks fetch at most, and its size estimate when the columns it reads are unknown.
   */
  estimatedBytes: number;
  /**
   * The same bytes by top-level column (lower case; a nested column's leaves summed): a scan's
   * size estimate for broadcast joins is the sum over the columns it reads (scan-sizes.ts).
   */
  columnBytes: ReadonlyMap<string, number>;
}

/** One file of the input: where it is read from, its size and footer. */
interface FooterFile {
  split: FileInputSplit;
  name: string;
  size: number;
  footer: ParquetFooter;
  /** [start, end) of the footer, its length and the closing magic. */
  footerRange: [number, number];
}

/** Read `length` bytes at `offset` of a file: the local file when the user's path is local, else the blob. */
async function readRange(
  blobs: BlobStore | undefined,
  split: FileInputSplit,
  offset: number,
  length: number,
): Promise<Buffer> {
  const local = !split.source.includes('://') && existsSync(split.source);
  if (!local) {
    if (!blobs) throw new Error(`internal: reading the footer of ${split.source} needs a blob store`);
    return blobs.getRange(split.container, split.blob, offset, length);
  }
  const handle = await open(split.source, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Read one file's footer into a sparse copy in `dir` and decode it; throws ParquetCorruptError naming the file. */
async function readFooter(
  blobs: BlobStore | undefined,
  split: FileInputSplit,
  dir: string,
  n: number,
): Promise<FooterFile> {
  const name = split.source;
  const size = split.fileSize;
  const corrupt = (why: string) =>
    new ParquetCorruptError(`Parquet file ${name} has a corrupt footer: ${why}`);
  if (size < 12) throw corrupt(`the file is ${size} bytes, too short for a Parquet file`);
  const tail = await readRange(blobs, split, size - 8, 8);
  if (tail.length !== 8 || tail.subarray(4).toString('latin1') !== 'PAR1')
    throw corrupt('it does not end with the magic bytes PAR1 (truncated, or not Parquet)');
  const length = tail.readUInt32LE(0);
  if (length > size - 12)
    throw corrupt(`its footer length (${length} bytes) exceeds the file (${size} bytes)`);
  const start = size - 8 - length;
  const footerBytes = await readRange(blobs, split, start, length);
  const file = path.join(dir, `footer-${n}.parquet`);
  const handle = await open(file, 'w');
  try {
    await handle.truncate(size);
    await handle.write(Buffer.from('PAR1'), 0, 4, 0);
    await handle.write(Buffer.concat([footerBytes, tail]), 0, length + 8, start);
  } finally {
    await handle.close();
  }
  const footer = await readParquetFooter(file, name);
  await rm(file, { force: true });
  // A chunk outside the data region: the footer does not describe this file.
  for (const group of footer.rowGroups) {
    for (const chunk of group.chunks) {
      if (chunk.start < 4 || chunk.end > start || chunk.end < chunk.start) {
        throw new ParquetCorruptError(
          `Parquet file ${name}, row group ${group.index}: column ${chunk.column}'s chunk is at bytes ${chunk.start}–${chunk.end}, outside the file's data (4–${start}): the file is corrupt or truncated`,
        );
      }
    }
  }
  return { split, name, size, footer, footerRange: [start, size] };
}

const INTEGER_RANK = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT'];

/** The wider of two column types when Spark's Parquet schema merge widens them; undefined when it refuses. */
export function widerType(a: string, b: string): string | undefined {
  if (a === b) return a;
  const ia = INTEGER_RANK.indexOf(a);
  const ib = INTEGER_RANK.indexOf(b);
  if (ia >= 0 && ib >= 0) return INTEGER_RANK[Math.max(ia, ib)];
  if ((a === 'FLOAT' && b === 'DOUBLE') || (a === 'DOUBLE' && b === 'FLOAT')) return 'DOUBLE';
  return undefined;
}

function differences(a: StructType, b: StructType, aName: string, bName: string): string[] {
  const out: string[] = [];
  const bTypes = new Map(b.fields.map((f) => [f.name.toLowerCase(), f]));
  const aNames = new Set(a.fields.map((f) => f.name.toLowerCase()));
  for (const f of a.fields) {
    const other = bTypes.get(f.name.toLowerCase());
    if (!other) out.push(`${f.name} (${f.type}) only in ${aName}`);
    else if (other.type !== f.type)
      out.push(`${f.name} is ${f.type} in ${aName} but ${other.type} in ${bName}`);
  }
  for (const f of b.fields)
    if (!aNames.has(f.name.toLowerCase())) out.push(`${f.name} (${f.type}) only in ${bName}`);
  return out;
}

/**
 * The scan's schema over every file: without mergeSchema, the files must share the first file's
 * columns and types (else an AnalysisError naming both files and the differing columns, before any
 * task runs); with it, the union of the columns in order of appearance, integer and float types
 * widened, anything else refused naming both files.
 */
export function scanSchema(
  files: readonly { name: string; schema: StructType }[],
  mergeSchema: boolean,
  uri: string,
): StructType {
  const first = files[0];
  if (!first) return { fields: [] };
  const merged: { -readonly [K in keyof StructField]: StructField[K] }[] = first.schema.fields.map((f) => ({
    ...f,
  }));
  const origin = new Map(merged.map((f) => [f.name.toLowerCase(), first.name]));
  for (const file of files.slice(1)) {
    if (!mergeSchema) {
      const diff = differences(first.schema, file.schema, first.name, file.name);
      if (diff.length > 0) {
        throw new AnalysisError(
          `read.parquet(${uri}): ${first.name} and ${file.name} have different schemas: ${diff.join('; ')}.\n  ${first.name}: ${fieldsText(first.schema.fields)}\n  ${file.name}: ${fieldsText(file.schema.fields)}\n  Read them with { mergeSchema: true } to take the union of their columns.`,
        );
      }
      continue;
    }
    for (const f of file.schema.fields) {
      const key = f.name.toLowerCase();
      const known = merged.find((m) => m.name.toLowerCase() === key);
      if (!known) {
        merged.push({ ...f, nullable: true });
        origin.set(key, file.name);
        continue;
      }
      const wider = widerType(known.type, f.type);
      if (wider === undefined) {
        throw new AnalysisError(
          `read.parquet(${uri}, { mergeSchema: true }): column ${f.name} is ${known.type} in ${origin.get(key)} but ${f.type} in ${file.name}, which do not merge (only integer widths and FLOAT/DOUBLE widen)`,
        );
      }
      known.type = wider;
    }
  }
  return { fields: merged };
}

/** The blob fields of a file's whole split, as a stage descriptor's split. */
function baseSplit(split: FileInputSplit): InputSplit {
  return {
    kind: 'blob',
    container: split.container,
    blob: split.blob,
    start: split.start,
    end: split.end,
    fileSize: split.fileSize,
    gzip: false,
    source: split.source,
    sourceOffset: 0,
  };
}

/** Bytes of a row group: the span of its column chunks. */
function rowGroupBytes(group: ParquetFooter['rowGroups'][number]): number {
  return group.chunks.reduce((n, c) => n + (c.end - c.start), 0);
}

/**
 * The compressed bytes of `groups`' column chunks by top-level column (lower case), as the
 * footers give them: what a task fetches of each column (parquet-fetch.ts).
 */
export function columnChunkBytes(groups: readonly ParquetRowGroup[]): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const group of groups)
    for (const chunk of group.chunks)
      bytes.set(chunk.column, (bytes.get(chunk.column) ?? 0) + (chunk.end - chunk.start));
  return bytes;
}

/**
 * Pack the kept row groups of each file (in file order) into splits: a split takes row groups of
 * one file until the next would pass `goal` bytes; a row group larger than the goal is a split
 * alone. Returns, per split, its file and row-group positions in that file's list.
 */
export function packRowGroups(
  files: readonly (readonly number[])[],
  goal: number,
): { file: number; groups: number[] }[] {
  const out: { file: number; groups: number[] }[] = [];
  for (const [file, sizes] of files.entries()) {
    let current: number[] = [];
    let bytes = 0;
    for (const [i, size] of sizes.entries()) {
      if (current.length > 0 && bytes + size > goal) {
        out.push({ file, groups: current });
        current = [];
        bytes = 0;
      }
      current.push(i);
      bytes += size;
    }
    if (current.length > 0) out.push({ file, groups: current });
  }
  return out;
}

/** A split's row groups as a task reads them: each column chunk's byte range (and bloom filter). */
export function rowGroupSplits(groups: readonly ParquetRowGroup[]) {
  return groups.map((g) => ({
    index: g.index,
    firstRow: g.firstRow,
    numRows: g.numRows,
    chunks: g.chunks.map((c) => ({
      column: c.column,
      range: [c.start, c.end] as [number, number],
      ...(c.bloom ? { bloom: c.bloom } : {}),
    })),
  }));
}

/**
 * Resolve a DataFrame's Parquet source into partitions of one split each (a stage descriptor's
 * `inputs[nodeId]`), with what planning found. `fragment` is the scan's fragment (its leading
 * filters are pushed down); `userSchema` the schema given to read.parquet, if any.
 */
export async function resolveParquetInput(
  source: SourceNodeInfo,
  fragment: RelationalFragment | undefined,
  options: Omit<ResolveInputOptions, 'minPartitions'>,
): Promise<{ partitions: InputSplit[][]; plan: ParquetScanPlan }> {
  const whole = await resolveInput(source.uri, { ...options, minPartitions: 1, wholeFiles: true });
  return planParquetScan(source, fragment, whole, options);
}

/**
 * Plan a Parquet scan over its files, one whole-file split each (`whole`, as resolveInput or
 * listInputSplits gives them): read every footer by range (a local file where it lies, a blob
 * through `blobs`), check or merge the schemas, skip the row groups the pushed filters rule out
 * and pack the others into splits. Shared by a run (resolveParquetInput) and `stratus explain`,
 * which lists the files without uploading them, so both plan the same splits.
 */
export async function planParquetScan(
  source: SourceNodeInfo,
  fragment: RelationalFragment | undefined,
  whole: readonly FileInputSplit[],
  options: { blobs?: BlobStore; splitBytes?: number },
): Promise<{ partitions: InputSplit[][]; plan: ParquetScanPlan }> {
  const input = fragment?.input.kind === 'scan' ? fragment.input : undefined;
  const dir = await mkdtemp(path.join(tmpdir(), 'stratus-parquet-'));
  let files: FooterFile[];
  try {
    files = [];
    for (const [n, split] of whole.entries()) files.push(await readFooter(options.blobs, split, dir, n));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const userSchema = input?.schema;
  const schema =
    userSchema ??
    scanSchema(
      files.map((f) => ({ name: f.name, schema: f.footer.schema })),
      input?.mergeSchema === true,
      source.uri,
    );
  const wanted = schema.fields.map((f) => f.name.toLowerCase());
  const filters = fragment ? pushedFilters(fragment.ops) : [];
  let rowGroups = 0;
  let skipped = 0;
  const kept = files.map((file) => {
    const types = new Map(file.footer.schema.fields.map((f) => [f.name.toLowerCase(), f.type]));
    return file.footer.rowGroups.filter((group) => {
      rowGroups++;
      if (group.numRows === 0) return false;
      const columns = new Map(
        group.chunks
          .filter((c) => !c.nested)
          .map((c) => [
            c.column,
            {
              ...(c.min !== undefined ? { min: c.min } : {}),
              ...(c.max !== undefined ? { max: c.max } : {}),
              ...(c.nullCount !== undefined ? { nullCount: c.nullCount } : {}),
            },
          ]),
      );
      const keep = rowGroupMayMatch(filters, { numRows: group.numRows, columns }, types);
      if (!keep) skipped++;
      return keep;
    });
  });
  const total = kept.flat().reduce((n, g) => n + rowGroupBytes(g), 0);
  const goal = splitGoal(total, source.minPartitions, options.splitBytes ?? DEFAULT_SPLIT_BYTES);
  const packed = packRowGroups(
    kept.map((groups) => groups.map(rowGroupBytes)),
    goal,
  );
  const partitions = packed.map(({ file: i, groups }): InputSplit[] => {
    const file = files[i]!;
    const chosen = groups.map((g) => kept[i]![g]!);
    const present = file.footer.schema.fields.map((f) => f.name.toLowerCase());
    const lacks = wanted.some((w) => !present.includes(w));
    const starts = chosen.flatMap((g) => g.chunks.map((c) => c.start));
    const ends = chosen.flatMap((g) => g.chunks.map((c) => c.end));
    return [
      {
        ...baseSplit(file.split),
        start: Math.min(...starts),
        end: Math.max(...ends),
        fileSize: file.size,
        parquet: {
          footer: file.footerRange,
          rowGroups: rowGroupSplits(chosen),
          ...(lacks ? { fileColumns: present } : {}),
        },
      },
    ];
  });
  // Nothing left to read: one split of no row group, so the scan still has a (empty) partition.
  if (partitions.length === 0 && files[0]) {
    const file = files[0];
    partitions.push([
      {
        ...baseSplit(file.split),
        start: 0,
        end: 0,
        fileSize: file.size,
        parquet: { footer: file.footerRange, rowGroups: [] },
      },
    ]);
  }
  return {
    partitions,
    plan: {
      schema,
      files: files.length,
      rowGroups,
      skippedRowGroups: skipped,
      splits: packed.length,
      footerBytes: files.reduce((n, f) => n + (f.footerRange[1] - f.footerRange[0]), 0),
      estimatedBytes: total,
      columnBytes: columnChunkBytes(kept.flat()),
    },
  };
}

/** The line explain() and the event log give a planned Parquet scan. */
export function parquetScanNote(plan: ParquetScanPlan): string {
  return `${plan.files} Parquet file${plan.files === 1 ? '' : 's'}, ${plan.rowGroups} row group${plan.rowGroups === 1 ? '' : 's'}, ${plan.skippedRowGroups} skipped by statistics, ${plan.splits} split${plan.splits === 1 ? '' : 's'}`;
}
