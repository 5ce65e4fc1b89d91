/**
 * A task of a DataFrame stage (the stage descriptor carries a relational program): its inputs
 * are fetched into the execution's temp folder — the partition's input splits (a Parquet
 * split's footer and row groups into a sparse copy, parquet-fetch.ts; CSV and JSON Lines
 * line-aligned, as storage/split-reader.ts cuts them, the header skipped in a file's first
 * split), or this reduce partition's segment of every map output by
 * range read — and the program runs in the task thread's DuckDB (duckdb/runner.ts). The output
 * has the engine's TaskOutput shape, so the stage task writes map outputs and packs results
 * exactly as for Dataset stages: one map-output blob of R contiguous Parquet segments.
 */
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ProtocolError } from '../contract/errors.js';
import { writeBridgeRows } from '../duckdb/bridge-rows.js';
import { fileSize, runRelationalTask } from '../duckdb/runner.js';
import type { ScanFile } from '../duckdb/scan-sql.js';
import type { InputSplit, MapOutputTableData, StageDescriptor } from '../engine/plan/stage-descriptor.js';
import type { MapOutput } from '../engine/shuffle/map-output.js';
import {
  RELATIONAL_PROGRAM_VERSION,
  type RelationalProgram,
  taskInputPartitions,
} from '../engine/sql/program.js';
import { dataFramePartName, partitionValuesOf, writeIdOf } from '../engine/sql/write-spec.js';
import { zeroTaskMetrics } from '../engine/task/pipeline.js';
import type { TaskOutput } from '../engine/task/task-runtime.js';
import type { BlobStore } from '../storage/blob-store.js';
import { readPartitionSplits } from '../storage/split-reader.js';
import { fetchParquetSplit } from './parquet-fetch.js';
import type { LocalPartFile } from './saved-files.js';
import { NonRetryableTaskError } from './task-errors.js';

/** The descriptor's program, checked for its version. */
function programOf(descriptor: StageDescriptor): RelationalProgram {
  const program = descriptor.relational as unknown as RelationalProgram | undefined;
  if (!program || program.v !== RELATIONAL_PROGRAM_VERSION) {
    throw new ProtocolError(
      `stage ${descriptor.stageId} has no relational program of version ${RELATIONAL_PROGRAM_VERSION}`,
    );
  }
  return program;
}

/**
 * A sort's sampling task over CSV or JSON Lines reads at most this many bytes of each split (its
 * first whole lines), as Spark's sample need not see every row; its row count is scaled up by
 * the bytes it skipped. Parquet samples read every row but only the sort keys' columns.
 */
export const SAMPLE_TEXT_BYTES = 1024 * 1024;

/** The split a sampling task reads: the split's first SAMPLE_TEXT_BYTES, when its length is known and longer. */
function sampledSplit(split: InputSplit): { split: InputSplit; length?: number; sampled?: number } {
  const end = split.end ?? split.fileSize;
  if (split.gzip || end === undefined || end - split.start <= SAMPLE_TEXT_BYTES) return { split };
  return {
    split: { ...split, end: split.start + SAMPLE_TEXT_BYTES },
    length: end - split.start,
    sampled: SAMPLE_TEXT_BYTES,
  };
}

/** Copy the partition's splits into local files; returns them and the bytes read. */
async function fetchScan(
  blobs: BlobStore,
  splits: readonly InputSplit[],
  program: RelationalProgram,
  dir: string,
) {
  const files: ScanFile[] = [];
  let bytes = 0;
  // CSV and JSON Lines: a record is a non-empty line (no multi-line records), the header excepted.
  let lines = 0;
  // A sampling task's text splits: their bytes, and the bytes it read of them (the count's scale).
  let textBytes = 0;
  let textSampled = 0;
  const sampling = program.sink.kind === 'sample';
  const header = program.input.kind === 'scan' && program.input.csv?.header === true;
  const partitions = program.input.kind === 'scan' ? (program.input.partitionColumns ?? []) : [];
  const partitionValues = (split: InputSplit) =>
    partitions.length > 0
      ? {
          partitionValues: partitionValuesOf(
            split.source ?? split.blob,
            partitions.map((c) => c.name),
          ),
        }
      : {};
  for (const [i, split] of splits.entries()) {
    const file = path.join(dir, `input-${i}`);
    if (program.input.kind === 'scan' && split.parquet) {
      // Some row groups of a Parquet file: a sparse copy of their bytes and the footer.
      const fetched = await fetchParquetSplit(
        blobs,
        { ...split, parquet: split.parquet },
        file,
        program.input.columns,
        program.input.readColumns,
      );
      bytes += fetched.bytes;
      if (fetched.scanFile) files.push({ ...fetched.scanFile, ...partitionValues(split) });
      continue;
    }
    if (program.input.kind === 'scan' && program.input.format === 'parquet') {
      const data = await blobs.getRange(
        split.container,
        split.blob,
        split.start,
        split.end === undefined ? undefined : split.end - split.start,
      );
      await writeFile(file, data);
      bytes += data.length;
    } else {
      const cut = sampling ? sampledSplit(split) : { split };
      if (cut.length !== undefined) {
        textBytes += cut.length;
        textSampled += cut.sampled!;
      }
      const chunks: Buffer[] = [];
      for await (const item of readPartitionSplits(blobs, [cut.split]))
        if (Buffer.isBuffer(item)) chunks.push(item);
      const data = Buffer.concat(chunks);
      await writeFile(file, data);
      bytes += data.length;
      lines += nonEmptyLines(data) - (header && (split.sourceOffset ?? split.start) === 0 ? 1 : 0);
    }
    files.push({
      path: file,
      skipHeader: header && (split.sourceOffset ?? split.start) === 0,
      name: split.source ?? split.blob,
      ...partitionValues(split),
    });
  }
  return {
    files,
    bytes,
    lines: Math.max(0, lines),
    countScale: textSampled > 0 ? textBytes / textSampled : 1,
  };
}

/** Lines of `data` holding more than whitespace (what DuckDB's CSV and JSON readers make a row of). */
function nonEmptyLines(data: Buffer): number {
  let count = 0;
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(10, start);
    if (end < 0) end = data.length;
    if (data.subarray(start, end).toString('latin1').trim().length > 0) count++;
    start = end + 1;
  }
  return count;
}

/** A map output whose R segments are local Parquet files (undefined: an empty segment). */
async function fileMapOutput(segments: readonly (string | undefined)[]): Promise<MapOutput> {
  const sizes = await Promise.all(segments.map((f) => (f ? fileSize(f) : 0)));
  return {
    segmentSizes: sizes,
    async *readSegment(p: number) {
      const file = segments[p];
      if (file) yield* createReadStream(file) as AsyncIterable<Buffer>;
    },
    // The files are in the execution's temp folder, which the task runner removes.
    discard: async () => {},
  };
}

/** The reduce side's segments: one range read per non-empty segment, kept in map order. */
export type SegmentFetcher = (table: MapOutputTableData, reducePartition: number) => AsyncIterable<Buffer>;

/**
 * The reduce side's segments as their bytes arrive: one range read per non-empty segment, in map
 * order, each read to its end before the next is requested.
 */
export type SegmentStreamer = (
  table: MapOutputTableData,
  reducePartition: number,
) => AsyncIterable<AsyncIterable<Buffer>>;

/** Stores a write task's part files (the executor's SavedFilesWriter); returns their records and bytes. */
export type SaveFiles = (
  files: readonly LocalPartFile[],
  writeId: string,
) => Promise<{ records: number; bytes: number }>;

/** Run one task of a DataFrame stage. */
export async function runRelationalStage(
  blobs: BlobStore,
  descriptor: StageDescriptor,
  partition: number,
  shuffleTables: ReadonlyMap<number, MapOutputTableData>,
  fetchSegments: SegmentFetcher,
  streamSegments: SegmentStreamer,
  tempDir: string,
  saveFiles: SaveFiles,
  signal: AbortSignal,
): Promise<TaskOutput> {
  const program = programOf(descriptor);
  const metrics = zeroTaskMetrics();
  const inputDir = path.join(tempDir, 'relational-input');
  await mkdir(inputDir, { recursive: true });
  const inputs: {
    scanFiles?: ScanFile[];
    segmentFiles?: string[];
    rightSegmentFiles?: string[];
    broadcastFiles?: Record<string, string[]>;
    recordRowsFile?: string;
  } = {};
  const inputPartitions = taskInputPartitions(program, partition);
  let textLines = 0;
  // A sampling task that read part of its text splits: its row count is scaled to the whole.
  let countScale = 1;
  for (const [i, b] of (program.broadcasts ?? []).entries()) {
    // A broadcast side has one reduce partition, which every task of the stage reads whole.
    const table = shuffleTables.get(b.shuffleId);
    if (!table)
      throw new NonRetryableTaskError(
        `stage descriptor has no map outputs for broadcast shuffle ${b.shuffleId}`,
      );
    const files: string[] = [];
    for await (const segment of fetchSegments(table, 0)) {
      const file = path.join(inputDir, `broadcast-${i}-${files.length}.parquet`);
      await writeFile(file, segment);
      files.push(file);
      metrics.shuffleReadBytes += segment.length;
      metrics.bytesRead += segment.length;
    }
    inputs.broadcastFiles = { ...inputs.broadcastFiles, [b.relation]: files };
  }
  if (program.input.kind === 'scan') {
    const nodeId = program.input.nodeId;
    const splits = inputPartitions.flatMap((q) => {
      const own = descriptor.inputs[String(nodeId)]?.[q];
      if (!own)
        throw new NonRetryableTaskError(`stage descriptor has no input for node ${nodeId} partition ${q}`);
      return own;
    });
    const fetched = await fetchScan(blobs, splits, program, inputDir);
    inputs.scanFiles = fetched.files;
    metrics.bytesRead += fetched.bytes;
    textLines = fetched.lines;
    countScale = fetched.countScale;
  } else if (program.input.kind === 'records') {
    // ds.toDF: the Dataset side's segment for this partition (the direct exchange: one map output has it).
    const table = shuffleTables.get(program.input.shuffleId);
    if (!table)
      throw new NonRetryableTaskError(
        `stage descriptor has no map outputs for shuffle ${program.input.shuffleId}`,
      );
    // Each segment decoded and written as JSON Lines as its bytes arrive (duckdb/bridge-rows.ts),
    // before DuckDB's session opens: the task never holds the partition's bytes or rows.
    const counted = async function* (segment: AsyncIterable<Buffer>) {
      for await (const chunk of segment) {
        metrics.shuffleReadBytes += chunk.length;
        metrics.bytesRead += chunk.length;
        yield chunk;
      }
    };
    const segments = async function* () {
      for (const q of inputPartitions)
        for await (const segment of streamSegments(table, q)) yield counted(segment);
    };
    const file = path.join(inputDir, 'bridge-rows.jsonl');
    await writeBridgeRows(program.input.codec, segments(), program.input.columns, file);
    inputs.recordRowsFile = file;
  } else if (program.input.kind === 'exchange' || program.input.kind === 'join') {
    const sides =
      program.input.kind === 'join'
        ? [program.input.left.shuffleId, program.input.right.shuffleId]
        : [program.input.shuffleId];
    const fetched: string[][] = [];
    for (const [side, shuffleId] of sides.entries()) {
      const table = shuffleTables.get(shuffleId);
      if (!table)
        throw new NonRetryableTaskError(`stage descriptor has no map outputs for shuffle ${shuffleId}`);
      const files: string[] = [];
      for (const q of inputPartitions) {
        for await (const segment of fetchSegments(table, q)) {
          const file = path.join(inputDir, `segment-${side}-${files.length}.parquet`);
          await writeFile(file, segment);
          files.push(file);
          metrics.shuffleReadBytes += segment.length;
          metrics.bytesRead += segment.length;
        }
      }
      fetched.push(files);
    }
    inputs.segmentFiles = fetched[0]!;
    if (fetched[1]) inputs.rightSegmentFiles = fetched[1];
  }
  const inputNames =
    program.input.kind === 'scan'
      ? inputPartitions.flatMap((q) =>
          (descriptor.inputs[String((program.input as { nodeId: number }).nodeId)]?.[q] ?? []).map(
            (split) => split.source ?? split.blob,
          ),
        )
      : [];
  const out = await runRelationalTask(program, partition, inputs, {
    tempDir,
    memoryBudgetBytes: descriptor.memoryBudgetBytes,
    signal,
    inputNames,
  });
  // Rows in: DuckDB's count, or the text lines fetched (see RelationalTaskOutput).
  metrics.recordsRead += out.rowsRead ?? textLines;
  // DuckDB's spill: its temp files seen and their peak total (duckdb/runner.ts's SpillWatch).
  metrics.spillCount += out.spill?.files ?? 0;
  metrics.spillBytes += out.spill?.bytes ?? 0;
  const base = { accumulatorUpdates: {}, cachedOutputs: [], metrics };
  if (out.kind === 'files') {
    const sink = program.sink;
    if (sink.kind !== 'write' || !descriptor.save)
      throw new NonRetryableTaskError(`stage ${descriptor.stageId} wrote part files without a save target`);
    const writeId = writeIdOf(descriptor.save.attemptPrefix);
    const files = out.files.map((f) => ({
      relativePath: `${f.folder}${dataFramePartName(partition, writeId, f.index, sink.format, sink.compression)}`,
      file: f.file,
      rows: f.rows,
    }));
    const stored = await saveFiles(files, writeId);
    metrics.recordsWritten += stored.records;
    metrics.bytesWritten += stored.bytes;
    return { kind: 'saved-part', result: stored, ...base };
  }
  if (out.kind === 'exchange') {
    const mapOutput = await fileMapOutput(out.segments);
    const written = mapOutput.segmentSizes.reduce((n, s) => n + s, 0);
    metrics.recordsWritten += out.rowsWritten;
    metrics.shuffleWriteBytes += written;
    metrics.bytesWritten += written;
    return { kind: 'shuffle-map', mapOutput, ...base };
  }
  if (out.kind === 'records') {
    // df.rdd: the direct exchange's map output, whose only non-empty segment is this partition's.
    // Its segment is the local file the task streamed DuckDB's rows into, uploaded as map outputs are.
    const files: (string | undefined)[] = new Array(out.numPartitions).fill(undefined);
    files[out.partition] = out.segmentFile;
    metrics.recordsWritten += out.rowsWritten;
    metrics.shuffleWriteBytes += out.segmentBytes;
    metrics.bytesWritten += out.segmentBytes;
    return { kind: 'shuffle-map', mapOutput: await fileMapOutput(files), ...base };
  }
  metrics.recordsWritten += out.rowsWritten;
  if (program.sink.kind === 'sample' && countScale !== 1) {
    // The rows of the whole partition, estimated from the part read: the weight of its keys.
    const sample = out.result as { count: number; keys: unknown[] };
    return { kind: 'result', result: { ...sample, count: Math.round(sample.count * countScale) }, ...base };
  }
  return { kind: 'result', result: out.result, ...base };
}
