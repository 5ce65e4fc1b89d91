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
import { fileSize, runRelationalTask } from '../duckdb/runner.js';
import type { ScanFile } from '../duckdb/scan-sql.js';
import type { InputSplit, MapOutputTableData, StageDescriptor } from '../engine/plan/stage-descriptor.js';
import type { MapOutput } from '../engine/shuffle/map-output.js';
import {
  RELATIONAL_PROGRAM_VERSION,
  type RelationalProgram,
  taskInputPartitions,
} from '../engine/sql/program.js';
import { zeroTaskMetrics } from '../engine/task/pipeline.js';
import type { TaskOutput } from '../engine/task/task-runtime.js';
import type { BlobStore } from '../storage/blob-store.js';
import { readPartitionSplits } from '../storage/split-reader.js';
import { fetchParquetSplit } from './parquet-fetch.js';
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

/** Copy the partition's splits into local files; returns them and the bytes read. */
async function fetchScan(
  blobs: BlobStore,
  splits: readonly InputSplit[],
  program: RelationalProgram,
  dir: string,
) {
  const files: ScanFile[] = [];
  let bytes = 0;
  const header = program.input.kind === 'scan' && program.input.csv?.header === true;
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
      if (fetched.scanFile) files.push(fetched.scanFile);
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
      const chunks: Buffer[] = [];
      for await (const item of readPartitionSplits(blobs, [split]))
        if (Buffer.isBuffer(item)) chunks.push(item);
      const data = Buffer.concat(chunks);
      await writeFile(file, data);
      bytes += data.length;
    }
    files.push({
      path: file,
      skipHeader: header && (split.sourceOffset ?? split.start) === 0,
      name: split.source ?? split.blob,
    });
  }
  return { files, bytes };
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

/** Where a save task's part file goes (the executor's SavedPartWriter). */
export interface SavedPartBytes {
  writeBytes(chunk: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Run one task of a DataFrame stage. */
export async function runRelationalStage(
  blobs: BlobStore,
  descriptor: StageDescriptor,
  partition: number,
  shuffleTables: ReadonlyMap<number, MapOutputTableData>,
  fetchSegments: SegmentFetcher,
  tempDir: string,
  openSavedPart: (partition: number) => SavedPartBytes,
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
  } = {};
  const inputPartitions = taskInputPartitions(program, partition);
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
  const base = { accumulatorUpdates: {}, cachedOutputs: [], metrics };
  if (out.kind === 'part') {
    const part = openSavedPart(partition);
    let bytes = 0;
    for await (const chunk of createReadStream(out.file) as AsyncIterable<Buffer>) {
      await part.writeBytes(chunk);
      bytes += chunk.length;
    }
    await part.close();
    metrics.recordsWritten += out.rowsWritten;
    metrics.bytesWritten += bytes;
    return { kind: 'saved-part', result: { records: out.rowsWritten, bytes }, ...base };
  }
  if (out.kind === 'exchange') {
    const mapOutput = await fileMapOutput(out.segments);
    const written = mapOutput.segmentSizes.reduce((n, s) => n + s, 0);
    metrics.recordsWritten += out.rowsWritten;
    metrics.shuffleWriteBytes += written;
    metrics.bytesWritten += written;
    return { kind: 'shuffle-map', mapOutput, ...base };
  }
  metrics.recordsWritten += out.rowsWritten;
  return { kind: 'result', result: out.result, ...base };
}
