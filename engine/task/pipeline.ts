/**
 * Computes one partition of a node inside a stage (Spark's RDD.compute): narrow operations
 * are chained as async streams of record batches; a shuffled/cogroup node reads its
 * shuffles and aggregates or sorts (spilling over the memory budget); a node stored in blobs
 * (persisted at 'blob', or checkpointed) is read through TaskIO; one persisted on executors is
 * read from this executor's copy when it has one; a persisted node computed here is teed into
 * an encoded cached output (engine/plan/persistence.ts).
 */

import { asUserCodeError, StratusError } from '../../contract/errors.js';
import { cogroupAggregator } from '../dataset/wide-ops.js';
import type { JobGraph } from '../plan/graph.js';
import { type GraphNode, nodeLabel } from '../plan/nodes.js';
import type { LocalStorageLevel } from '../plan/persistence.js';
import { sourceNodeInfo } from '../plan/source-node.js';
import type { StagePlan } from '../plan/stages.js';
import type { RecordCodec } from '../records/codec.js';
import { CsvDecoder } from '../records/csv.js';
import { BadRecords, type LineBatch, lineBatches, parseJsonLines } from '../records/record-formats.js';
import { recordValidator } from '../records/record-schema.js';
import { isWholeFileFormat, wholeFileRecords } from '../records/whole-files.js';
import { ExternalAggregator } from '../shuffle/external-aggregator.js';
import { ExternalSorter } from '../shuffle/external-sorter.js';
import { BATCH_SIZE, inBatches, type SpillEnv } from '../shuffle/spill.js';
import { cartesianParents, cartesianProduct } from './cartesian.js';
import type { MemoryTracker } from './memory.js';
import type { TaskIO } from './task-io.js';

/** Counters a task reports (see protocol TaskMetrics; durationMs is the executor's). */
export interface TaskRunMetrics {
  recordsRead: number;
  recordsWritten: number;
  bytesRead: number;
  bytesWritten: number;
  shuffleReadBytes: number;
  shuffleWriteBytes: number;
  peakMemoryBytes: number;
  spillCount: number;
  /** Bytes spilled to the execution's temp folder (an RDD task's runs; a DataFrame task's DuckDB temp files at their peak). */
  spillBytes: number;
}

/** Metrics of a task that has done nothing yet. */
export function zeroTaskMetrics(): TaskRunMetrics {
  return {
    recordsRead: 0,
    recordsWritten: 0,
    bytesRead: 0,
    bytesWritten: 0,
    shuffleReadBytes: 0,
    shuffleWriteBytes: 0,
    peakMemoryBytes: 0,
    spillCount: 0,
    spillBytes: 0,
  };
}

/**
 * One partition of a persisted node, encoded with the stage's codec: for the executor to write
 * to a blob ('blob', 'checkpoint'; the driver records it) or keep itself ('memory', 'disk').
 */
export interface CachedPartitionOutput {
  nodeId: number;
  partition: number;
  data: Buffer;
  records: number;
  /** Where it goes: a cache blob, a checkpoint blob, or the executor's memory or disk. */
  storage: 'blob' | 'checkpoint' | LocalStorageLevel;
}

/** State shared by the nodes computed in one task. */
export interface PipelineContext {
  graph: JobGraph;
  stage: StagePlan;
  io: TaskIO;
  codec: RecordCodec;
  memory: MemoryTracker;
  metrics: TaskRunMetrics;
  cachedOutputs: CachedPartitionOutput[];
  /**
   * Set while computing a cartesian parent's partition that another task of the stage caches:
   * every partition of a cache()d node is then written by exactly one task (see cartesian).
   */
  skipCacheWrites?: boolean;
}

function partitionsOf(ctx: PipelineContext, id: number): number {
  const n = ctx.stage.nodePartitions[id];
  if (n === undefined)
    throw new Error(`internal: stage ${ctx.stage.stageId} has no partition count for node ${id}`);
  return n;
}

/**
 * The records of one partition of a file source: the bytes (or lines) TaskIO.readSource
 * yields, split by split (see record-formats.ts), parsed by the source's format and validated by
 * its schema when it has one (record-schema.ts). Skipped bad
 * records are added to the source's accumulator as they are found, while the task runs.
 */
async function* readFileSource(ctx: PipelineContext, node: GraphNode, partition: number) {
  const impl = node.impl;
  if (impl.type !== 'file') return;
  const info = sourceNodeInfo(node)!;
  if (isWholeFileFormat(impl.format)) {
    const files = ctx.io.readSource(info, partition);
    const countBytes = (n: number) => {
      ctx.metrics.bytesRead += n;
    };
    for await (const batch of wholeFileRecords(files, impl.format, impl.uri, BATCH_SIZE, countBytes)) {
      ctx.metrics.recordsRead += batch.length;
      yield batch;
    }
    return;
  }
  const label = `${info.kind}(${impl.uri})`;
  const bad = new BadRecords(impl.badRecords ?? 'fail', label, partition);
  let decode: (batch: LineBatch) => unknown[];
  let end = () => {};
  const validate = impl.schema
    ? recordValidator(impl.schema, impl.format === 'csv' ? 'column' : 'field', label)
    : undefined;
  if (impl.format === 'text') decode = (batch) => batch.lines;
  else if (impl.format === 'json-lines') decode = (batch) => parseJsonLines(batch, bad, validate);
  else {
    const csv = new CsvDecoder(impl.csv!, label, validate);
    decode = (batch) => csv.decode(batch, bad);
    end = () => csv.end(bad);
  }
  let counted = 0;
  const countSkipped = () => {
    if (bad.skipped > counted) impl.badRecordCounter?.add(bad.skipped - counted);
    counted = bad.skipped;
  };
  let out: unknown[] = [];
  const batches = lineBatches(ctx.io.readSource(info, partition), impl.uri, (n) => {
    ctx.metrics.bytesRead += n;
  });
  for await (const batch of batches) {
    const records = decode(batch);
    countSkipped();
    // Whole batches are sliced off (one copy of the pointers); only the ends are pushed one by one.
    const n = records.length;
    let i = 0;
    while (i < n) {
      if (out.length === 0 && n - i >= BATCH_SIZE) {
        const full = records.slice(i, i + BATCH_SIZE);
        i += BATCH_SIZE;
        ctx.metrics.recordsRead += full.length;
        yield full;
        continue;
      }
      out.push(records[i++]);
      if (out.length >= BATCH_SIZE) {
        ctx.metrics.recordsRead += out.length;
        yield out;
        out = [];
      }
    }
  }
  end();
  countSkipped();
  ctx.metrics.recordsRead += out.length;
  if (out.length > 0) yield out;
}

/** The bytes of a shuffle segment decoded at a time (readShuffleBatches). */
const SHUFFLE_DECODE_SLICE_BYTES = 256 * 1024;

async function* readShuffleBatches(ctx: PipelineContext, shuffleId: number, partition: number) {
  const decoder = ctx.codec.decoder();
  for await (const chunk of ctx.io.readShuffle(shuffleId, partition)) {
    ctx.metrics.shuffleReadBytes += chunk.length;
    // A segment arrives whole and can hold a whole partition (a bridge exchange from df.rdd()
    // does): decoded a slice at a time, the records in memory at once are a slice's, not the segment's.
    for (let offset = 0; offset < chunk.length; offset += SHUFFLE_DECODE_SLICE_BYTES) {
      const records = decoder.push(chunk.subarray(offset, offset + SHUFFLE_DECODE_SLICE_BYTES));
      ctx.metrics.recordsRead += records.length;
      if (records.length > 0) yield records;
    }
  }
  const rest = decoder.end();
  if (rest.length > 0) yield rest;
}

async function* readCachedBatches(ctx: PipelineContext, node: GraphNode, partition: number) {
  const source = ctx.io.readCached(node.id, partition);
  if (!source) {
    throw new StratusError(
      'CACHE_MISSING',
      `cached partition ${partition} of ${nodeLabel(node)} is not available`,
      {
        partition,
      },
    );
  }
  yield* decodeStored(ctx, source);
}

/** Decode a stored partition: encoded chunks (or ready records, from the in-memory runner). */
async function* decodeStored(ctx: PipelineContext, source: AsyncIterable<unknown> | Iterable<unknown>) {
  const decoder = ctx.codec.decoder();
  // A cached partition may arrive as one blob of many frames: its records are handed on in
  // batches, never spread into one call (a spread of 100 k records overflows the stack).
  let records: unknown[] = [];
  const take = function* (decoded: unknown[]): Iterable<unknown[]> {
    for (let i = 0; i < decoded.length; i++) {
      records.push(decoded[i]);
      if (records.length >= BATCH_SIZE) {
        ctx.metrics.recordsRead += records.length;
        yield records;
        records = [];
      }
    }
  };
  for await (const item of source) {
    if (item instanceof Uint8Array) {
      ctx.metrics.bytesRead += item.byteLength;
      yield* take(decoder.push(item));
    } else yield* take([item]);
  }
  yield* take(decoder.end());
  ctx.metrics.recordsRead += records.length;
  if (records.length > 0) yield records;
}

/**
 * A node persisted on executors: this executor's copy of the partition when it has one, else
 * the partition computed from its lineage and kept here for the next task that lands here.
 */
async function* readLocalOrCompute(
  ctx: PipelineContext,
  node: GraphNode,
  partition: number,
  level: LocalStorageLevel,
) {
  const stored = await ctx.io.readLocalPartition?.(node.id, partition, level);
  if (stored) {
    yield* decodeStored(ctx, [stored]);
    return;
  }
  yield* teeToCache(ctx, node, partition, computeNode(ctx, node, partition), level);
}

async function* teeToCache(
  ctx: PipelineContext,
  node: GraphNode,
  partition: number,
  source: AsyncIterable<unknown[]>,
  storage: CachedPartitionOutput['storage'],
) {
  const chunks: Buffer[] = [];
  let records = 0;
  const label = nodeLabel(node);
  for await (const batch of source) {
    chunks.push(ctx.codec.encode(batch, label));
    records += batch.length;
    yield batch;
  }
  // Reached only when the partition was read to its end: a partial partition is never cached.
  // A task that computed the same partition twice (ds.cartesian(ds)) returns it once.
  if (ctx.cachedOutputs.some((c) => c.nodeId === node.id && c.partition === partition)) return;
  const data = Buffer.concat(chunks);
  // Bytes kept on the executor are not written anywhere the metric counts.
  if (storage === 'blob' || storage === 'checkpoint') ctx.metrics.bytesWritten += data.length;
  ctx.cachedOutputs.push({ nodeId: node.id, partition, data, records, storage });
}

/**
 * Spark's InterruptibleIterator: ask the task whether it must stop before handing on each batch.
 * A CPU-bound user function then runs at most one more batch once its executor shuts down.
 */
async function* interruptible(source: AsyncIterable<unknown[]>, io: TaskIO) {
  for await (const batch of source) {
    io.throwIfInterrupted?.();
    yield batch;
  }
}

/** The record batches of partition `partition` of node `id`, computed within the task's stage. */
export function computePartition(
  ctx: PipelineContext,
  id: number,
  partition: number,
): AsyncIterable<unknown[]> {
  const batches = computeBatches(ctx, id, partition);
  return ctx.io.throwIfInterrupted ? interruptible(batches, ctx.io) : batches;
}

function computeBatches(ctx: PipelineContext, id: number, partition: number): AsyncIterable<unknown[]> {
  const node = ctx.graph.node(id);
  const stage = ctx.stage;
  if (stage.cacheReads.includes(id)) return readCachedBatches(ctx, node, partition);
  const local = stage.localPersists?.find((l) => l.nodeId === id);
  if (local) return readLocalOrCompute(ctx, node, partition, local.level);
  const computed = computeNode(ctx, node, partition);
  if (!stage.cacheWrites.includes(id) || ctx.skipCacheWrites) return computed;
  const storage = stage.checkpoints?.includes(id) ? 'checkpoint' : 'blob';
  return teeToCache(ctx, node, partition, computed, storage);
}

async function* computeNode(
  ctx: PipelineContext,
  node: GraphNode,
  partition: number,
): AsyncIterable<unknown[]> {
  const impl = node.impl;
  const parent = node.parents[0]!;
  switch (impl.type) {
    case 'parallelize': {
      const n = partitionsOf(ctx, node.id);
      const len = impl.data.length;
      const slice = impl.data.slice(
        Math.floor((partition * len) / n),
        Math.floor(((partition + 1) * len) / n),
      );
      ctx.metrics.recordsRead += slice.length;
      yield* inBatches(slice);
      return;
    }
    case 'file':
      yield* readFileSource(ctx, node, partition);
      return;
    case 'narrow': {
      const label = nodeLabel(node);
      let transform: (batch: unknown[]) => unknown[];
      try {
        transform = impl.open(partition, partitionsOf(ctx, node.id));
      } catch (error) {
        throw asUserCodeError(label, error);
      }
      for await (const batch of computePartition(ctx, parent, partition)) {
        let out: unknown[];
        try {
          out = transform(batch);
        } catch (error) {
          throw asUserCodeError(label, error);
        }
        if (out.length > 0) yield out;
      }
      return;
    }
    case 'mapPartitions': {
      const records: unknown[] = [];
      for await (const batch of computePartition(ctx, parent, partition))
        for (const r of batch) records.push(r);
      let out: unknown[];
      try {
        out = [...impl.fn(records, partition)];
      } catch (error) {
        throw asUserCodeError(nodeLabel(node), error);
      }
      yield* inBatches(out);
      return;
    }
    case 'union': {
      let offset = partition;
      for (const p of node.parents) {
        const n = partitionsOf(ctx, p);
        if (offset < n) {
          yield* computePartition(ctx, p, offset);
          return;
        }
        offset -= n;
      }
      throw new Error(`internal: union partition ${partition} out of range`);
    }
    case 'coalesce': {
      const m = partitionsOf(ctx, parent);
      const n = partitionsOf(ctx, node.id);
      const from = Math.floor((partition * m) / n);
      const to = Math.floor(((partition + 1) * m) / n);
      for (let q = from; q < to; q++) yield* computePartition(ctx, parent, q);
      return;
    }
    case 'cartesian': {
      // Task i*n2+j computes partition i of this side and j of the other. Partition i is computed
      // by n2 tasks and j by n1: only the tasks with j = 0 (resp. i = 0) cache them.
      const other = node.parents[1]!;
      const { left, right } = cartesianParents(partition, partitionsOf(ctx, other));
      const quiet: PipelineContext = { ...ctx, skipCacheWrites: true };
      yield* cartesianProduct(
        computePartition(right === 0 ? ctx : quiet, parent, left),
        computePartition(left === 0 ? ctx : quiet, other, right),
        { codec: ctx.codec, spill: ctx.io.spill, memory: ctx.memory },
        nodeLabel(node),
      );
      return;
    }
    case 'shuffled': {
      const env: SpillEnv = { codec: ctx.codec, spill: ctx.io.spill, memory: ctx.memory };
      const input = readShuffleBatches(ctx, impl.dep.shuffleId, partition);
      const label = nodeLabel(node);
      if (impl.aggregator) {
        const agg = new ExternalAggregator(env, impl.aggregator, label);
        for await (const batch of input) await agg.insert(batch, impl.dep.mapSideCombine);
        yield* agg.result();
      } else if (impl.sort) {
        const sorter = new ExternalSorter(env, label, impl.sort.ascending);
        for await (const batch of input) await sorter.insert(batch);
        yield* sorter.sorted();
      } else {
        yield* input;
      }
      return;
    }
    case 'cogroup': {
      const env: SpillEnv = { codec: ctx.codec, spill: ctx.io.spill, memory: ctx.memory };
      const agg = new ExternalAggregator(env, cogroupAggregator(node.parents.length), nodeLabel(node));
      const narrow = impl.narrowParents ?? [];
      let nextDep = 0;
      for (const [tag, parentId] of node.parents.entries()) {
        // A co-partitioned parent's partition `partition` holds exactly this partition's keys.
        const input = narrow.includes(tag)
          ? computePartition(ctx, parentId, partition)
          : readShuffleBatches(ctx, impl.deps[nextDep++]!.shuffleId, partition);
        for await (const batch of input) {
          const tagged = batch.map((r) => {
            const pair = r as [unknown, unknown];
            return [pair[0], [tag, pair[1]]];
          });
          await agg.insert(tagged, false);
        }
      }
      yield* agg.result();
      return;
    }
    case 'handle':
      throw new Error(`internal: ${nodeLabel(node)} is read from its handle's blobs, never computed`);
  }
}
