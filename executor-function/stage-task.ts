/**
 * The `stage` work kind: one task of an engine stage. It reads the stage descriptor blob,
 * loads the job bundle (downloaded once per instance into the shared on-disk cache, imported
 * once per thread, verified by hash), rebuilds the job graph with the job's
 * params, checks that it is the graph the driver planned, and runs the task through the
 * engine with a TaskIO over blobs: input splits, the shuffle's winning map outputs
 * (range reads of this reduce partition's segment only), cached and checkpointed partitions,
 * this executor's own copies of partitions persisted at 'memory' / 'disk', the driver's
 * broadcast values (read once per thread; the rebuild's own values are ignored), and
 * spilled runs in the execution's temp folder. What decides what runs is checked by hash
 * before any code of the job is loaded: the descriptor against the sha256 the (signed) task
 * message gives, the broadcast values and map-output tables against the descriptor's. Every blob it writes is named by the run's scope and
 * by this execution (attempt, delivery count and a random nonce), so no two executions —
 * not even two concurrent deliveries of one message — write the same blob; the success
 * event names each blob, and the driver commits exactly the blobs its winner reported. The
 * one exception is a part file of an az:// save target: every execution stages its own
 * uncommitted blocks on the final part blob, and the event names them (task-outputs.ts).
 * When the executor shuts down, the task stops at its next record batch (TaskIO.throwIfInterrupted,
 * Spark's killTaskIfInterrupted) and its invocation fails, so the message runs elsewhere.
 */
import { createHash } from 'node:crypto';
import { type AppLease, AppLeaseSchema, appLeaseBlobName } from '../contract/app-lease.js';
import { coerceError, ShuffleOutputMissingError, StratusError } from '../contract/errors.js';
import {
  bundleBlobName,
  CODE_CONTAINER,
  cachedNodePrefix,
  cachedPartitionBlobName,
  checkpointPartitionBlobName,
  DATA_CONTAINER,
  mapOutputBlobName,
  resultBlobName,
} from '../contract/names.js';
import type { CachedPartition, StageWork, TaskResult } from '../contract/protocol.js';
import { blobDigest, signingKeyFromEnv } from '../contract/signing.js';
import type { JobDefinition } from '../engine/dataset/job.js';
import { decodeBroadcastValue } from '../engine/dataset/shared-variables.js';
import { buildJobGraph } from '../engine/plan/graph.js';
import { loadJobBundle } from '../engine/plan/module-loader.js';
import {
  descriptorPlan,
  type InputSplit,
  type MapOutputTableData,
  MapOutputTableSchema,
  parseStageDescriptor,
  type StageDescriptor,
} from '../engine/plan/stage-descriptor.js';
import { getCodec } from '../engine/records/codec.js';
import { fromTaggedJson, type JsonValue, toTaggedJson } from '../engine/records/tagged-json.js';
import type { ParsedSql } from '../engine/sql/sql-plan.js';
import type { TaskIO } from '../engine/task/task-io.js';
import { runTask, type TaskOutput } from '../engine/task/task-runtime.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BlobNotFoundError } from '../storage/blob-store.js';
import { readPartitionSplits } from '../storage/split-reader.js';
import { runRelationalStage } from './relational-task.js';
import { SavedFilesWriter } from './saved-files.js';
import { inputRangeBytes, outputBlockBytes, shuffleFetchConcurrency } from './task-buffers.js';
import { BlobTamperedError, NonRetryableTaskError } from './task-errors.js';
import { SavedPartWriter, writeMapOutput } from './task-outputs.js';
import { TempFileSpillStore } from './temp-spill-store.js';
import { blockKey, copyKey, nodeBlockPrefix } from './thread-blocks.js';
import type { TaskContext, TaskOutcome, WorkKindRunner } from './work-kind-runner.js';

/** A small per-thread cache of values keyed by blob name and hash (descriptors, map-output tables, broadcasts). */
class BlobValueCache<T> {
  private readonly entries = new Map<string, Promise<T>>();
  constructor(private readonly capacity: number) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.entries.get(key);
    if (value) {
      this.entries.delete(key);
      this.entries.set(key, value); // most recently used last
      return value;
    }
    value = load();
    value.catch(() => this.entries.delete(key));
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return value;
  }
}

const descriptors = new BlobValueCache<StageDescriptor>(64);
const mapOutputTables = new BlobValueCache<MapOutputTableData>(64);
const broadcastBlobs = new BlobValueCache<Buffer>(16);

async function readBlobOrFail(blobs: BlobStore, container: string, name: string, what: string) {
  try {
    return await blobs.get(container, name);
  } catch (error) {
    if (error instanceof BlobNotFoundError) {
      throw new NonRetryableTaskError(`${what} ${container}/${name} does not exist`, { cause: error });
    }
    throw error;
  }
}

/** True when this executor has a signing key: then every blob that decides what runs must be pinned. */
function signingRequired(): boolean {
  return signingKeyFromEnv(process.env) !== undefined;
}

/**
 * Check a blob's bytes against the sha256 it is pinned by before using it; throws
 * BlobTamperedError on a mismatch, and (with a signing key) when it is not pinned at all.
 * Called inside the per-thread caches' loaders, so each blob is hashed once per thread.
 */
function verifyPinned(bytes: Buffer, expected: string | undefined, what: string, name: string): void {
  if (expected === undefined) {
    if (signingRequired()) {
      throw new BlobTamperedError(
        `${what} ${DATA_CONTAINER}/${name} is not pinned by a sha256 and this executor requires signed work (a driver of an older release?); refusing to use it`,
        name,
      );
    }
    return;
  }
  const actual = blobDigest(bytes);
  if (actual !== expected) {
    throw new BlobTamperedError(
      `${what} ${DATA_CONTAINER}/${name} does not match the sha256 its task pins (sha256 ${actual.slice(0, 12)}, expected ${expected.slice(0, 12)}): it was altered after the driver wrote it; refusing to use it`,
      name,
    );
  }
}

/** The stage descriptor, verified against `sha256` (the task message's); cached per thread by name and hash. */
function loadDescriptor(
  blobs: BlobStore,
  name: string,
  sha256: string | undefined,
): Promise<StageDescriptor> {
  return descriptors.get(`${name}@${sha256 ?? ''}`, async () => {
    const bytes = await readBlobOrFail(blobs, DATA_CONTAINER, name, 'stage descriptor');
    verifyPinned(bytes, sha256, 'stage descriptor', name);
    return parseStageDescriptor(bytes.toString('utf8'), name);
  });
}

function loadMapOutputTable(
  blobs: BlobStore,
  location: { tableBlob: string; sha256?: string | undefined },
): Promise<MapOutputTableData> {
  const name = location.tableBlob;
  return mapOutputTables.get(`${name}@${location.sha256 ?? ''}`, async () => {
    const bytes = await readBlobOrFail(blobs, DATA_CONTAINER, name, 'map-output table');
    verifyPinned(bytes, location.sha256, 'map-output table', name);
    const parsed = MapOutputTableSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    if (!parsed.success) throw new NonRetryableTaskError(`map-output table ${name} is malformed`);
    return parsed.data;
  });
}

/**
 * The map-output table of every shuffle the stage reads, by shuffle id: loaded (and verified)
 * before the job's code is, since a reduce task reads its shuffles first anyway.
 */
async function loadShuffleTables(
  blobs: BlobStore,
  descriptor: StageDescriptor,
): Promise<Map<number, MapOutputTableData>> {
  const entries = await Promise.all(
    Object.entries(descriptor.shuffles).map(
      async ([id, location]) => [Number(id), await loadMapOutputTable(blobs, location)] as const,
    ),
  );
  return new Map(entries);
}

/**
 * The driver's encoded value of every broadcast the descriptor names, by id. Loaded before the
 * task runs because user code reads `.value` synchronously, and before the job's code is loaded,
 * since each blob is checked against the sha256 the descriptor pins it by; cached per thread by
 * blob name and hash, so each value is downloaded and verified once per thread and run. Each task
 * decodes its own copy (a structured clone would turn a Buffer into a Uint8Array).
 */
async function loadBroadcasts(blobs: BlobStore, descriptor: StageDescriptor): Promise<Map<number, Buffer>> {
  const entries = await Promise.all(
    Object.entries(descriptor.broadcasts).map(async ([id, { blob, sha256 }]) => {
      const bytes = await broadcastBlobs.get(`${blob}@${sha256 ?? ''}`, async () => {
        const bytes = await readBlobOrFail(blobs, DATA_CONTAINER, blob, 'broadcast value');
        verifyPinned(bytes, sha256, 'broadcast value', blob);
        decodeBroadcastValue(bytes); // a blob that does not decode fails here, before the job's code loads
        return bytes;
      });
      return [Number(id), bytes] as const;
    }),
  );
  return new Map(entries);
}

/**
 * The job definition of bundle `codeHash`. The loader looks in the instance's on-disk bundle
 * cache (shared by its task threads, verified by hash) first, so this downloads the bundle
 * only when no thread of this instance has yet.
 */
function loadBundle(blobs: BlobStore, codeHash: string): Promise<JobDefinition> {
  return loadJobBundle(codeHash, async () => {
    const code = await readBlobOrFail(blobs, CODE_CONTAINER, bundleBlobName(codeHash), 'job bundle');
    // Content-addressed: a bundle whose bytes do not hash to its name was altered; never load it.
    if (createHash('sha256').update(code).digest('hex') !== codeHash) {
      throw new NonRetryableTaskError(
        `job bundle ${codeHash.slice(0, 12)} does not match its hash; refusing to load it`,
      );
    }
    return code.toString('utf8');
  });
}

/**
 * Thrown when the task's job was cancelled or its driver is gone; the runner drops the task.
 * Not retryable: nobody needs the attempt any more.
 */
export class ApplicationEndedError extends StratusError {
  constructor(message: string) {
    super('APP_ENDED', message);
    this.name = 'ApplicationEndedError';
  }
}

/** Read an application's lease blob; undefined when it is gone (the application ended). */
async function readLease(blobs: BlobStore, appId: string): Promise<AppLease | undefined> {
  try {
    const parsed = AppLeaseSchema.safeParse(
      JSON.parse((await blobs.get(DATA_CONTAINER, appLeaseBlobName(appId))).toString('utf8')),
    );
    return parsed.success ? parsed.data : undefined;
  } catch (error) {
    if (error instanceof BlobNotFoundError) return undefined;
    throw error;
  }
}

/**
 * After a task wrote its blobs, make sure its application still exists, reading the lease
 * afresh (never from the cache). A driver that closes deletes its lease first and only then
 * lists and deletes `apps/<appId>/`, so a blob written before a lease read that still finds the
 * lease is in that listing, and a task that finds no lease deletes what it wrote itself: either
 * way no blob of an ended application is left behind by a late attempt (a speculative loser, a
 * task that was running when the job was cancelled).
 */
async function discardIfApplicationEnded(blobs: BlobStore, appId: string, written: readonly string[]) {
  if (written.length === 0) return;
  const lease = await readLease(blobs, appId);
  if (lease !== undefined && lease.expiresAt > Date.now()) return;
  await Promise.all(written.map((blob) => blobs.delete(DATA_CONTAINER, blob)));
  throw new ApplicationEndedError(
    `application ${appId} ended while the task ran; discarded the ${written.length} blob(s) it wrote`,
  );
}

/** The byte range of `reducePartition`'s segment in each map output where it is not empty. */
function segmentRanges(table: MapOutputTableData, reducePartition: number) {
  const ranges: { blob: string; offset: number; count: number }[] = [];
  for (const output of table.outputs) {
    const count = output.segmentSizes[reducePartition] ?? 0;
    if (count === 0) continue; // an empty segment costs no request
    let offset = 0;
    for (let r = 0; r < reducePartition; r++) offset += output.segmentSizes[r] ?? 0;
    ranges.push({ blob: output.blob, offset, count });
  }
  return ranges;
}

/** A read of a map output that is gone: ShuffleOutputMissingError, naming the shuffle and blob. */
function missingOutput(table: MapOutputTableData, blob: string) {
  return (error: unknown): never => {
    if (error instanceof BlobNotFoundError) {
      throw new ShuffleOutputMissingError(table.shuffleId, blob, error.message);
    }
    throw error;
  };
}

/**
 * The segment of `reducePartition` from every map output, one after the other, each streamed
 * from one ranged GET (the requests fetchSegments makes) as its bytes arrive; each must be read
 * to its end before the next. For a reader that decodes as it goes and must not hold a segment
 * whole: the toDF bridge, whose one segment holds a whole partition.
 */
async function* streamSegments(
  blobs: BlobStore,
  table: MapOutputTableData,
  reducePartition: number,
): AsyncGenerator<AsyncIterable<Buffer>> {
  for (const range of segmentRanges(table, reducePartition)) {
    yield (async function* () {
      try {
        yield* blobs.streamRange(DATA_CONTAINER, range.blob, range.offset, range.count);
      } catch (error) {
        missingOutput(table, range.blob)(error);
      }
    })();
  }
}

/**
 * Yield the segment of `reducePartition` from every map output, fetching several at once: as
 * many average-sized segments as the task's budget allows (task-buffers.ts).
 */
async function* fetchSegments(
  blobs: BlobStore,
  table: MapOutputTableData,
  reducePartition: number,
  budgetBytes: number,
): AsyncGenerator<Buffer> {
  const ranges = segmentRanges(table, reducePartition);
  const total = ranges.reduce((n, r) => n + r.count, 0);
  const concurrency = shuffleFetchConcurrency(budgetBytes, ranges.length > 0 ? total / ranges.length : 0);
  // Keep up to `concurrency` reads in flight; yield segments in the order they were requested.
  const inFlight: Promise<Buffer>[] = [];
  let next = 0;
  const startNext = () => {
    const range = ranges[next++]!;
    inFlight.push(
      blobs
        .getRange(DATA_CONTAINER, range.blob, range.offset, range.count)
        .catch(missingOutput(table, range.blob)),
    );
  };
  while (next < ranges.length && inFlight.length < concurrency) startNext();
  while (inFlight.length > 0) {
    const segment = await inFlight.shift()!;
    if (next < ranges.length) startNext();
    yield segment;
  }
}

/**
 * Where a task's persisted partitions came from (task metrics, Spark's "cached" marks): read from
 * this executor's memory (a 'memory' block or a copy of a blob), its disk, a blob, or computed
 * and stored by this task.
 */
export interface CacheSources {
  cachedFromMemory: number;
  cachedFromDisk: number;
  cachedFromBlob: number;
  cachedComputed: number;
}

function makeTaskIO(
  context: TaskContext,
  descriptor: StageDescriptor,
  broadcasts: ReadonlyMap<number, Buffer>,
  shuffleTables: ReadonlyMap<number, MapOutputTableData>,
  onSavedPart: (part: SavedPartWriter) => void,
  sources: CacheSources,
): TaskIO {
  const { blobs } = context;
  const appId = context.message.appId;
  return {
    async *readSource(source, partition) {
      const splits: InputSplit[] | undefined = descriptor.inputs[String(source.nodeId)]?.[partition];
      if (!splits) {
        throw new NonRetryableTaskError(
          `stage descriptor has no input for ${source.kind}(${source.uri}) partition ${partition}`,
        );
      }
      yield* readPartitionSplits(blobs, splits, {
        chunkBytes: inputRangeBytes(descriptor.memoryBudgetBytes),
      });
    },
    async *readShuffle(shuffleId, reducePartition) {
      const table = shuffleTables.get(shuffleId);
      if (!table)
        throw new NonRetryableTaskError(`stage descriptor has no map outputs for shuffle ${shuffleId}`);
      yield* fetchSegments(blobs, table, reducePartition, descriptor.memoryBudgetBytes);
    },
    readCached(nodeId, partition) {
      const blob = descriptor.cached[String(nodeId)]?.[partition];
      if (blob === undefined) return undefined;
      // This executor's copy when an earlier task here wrote or read the same blob: no Blob read.
      const key = copyKey(appId, blob);
      const copy = context.blocks.getCopy(key);
      if (copy) sources.cachedFromMemory++;
      else sources.cachedFromBlob++;
      return (async function* () {
        if (copy) {
          yield copy;
          return;
        }
        const bytes = await blobs.get(DATA_CONTAINER, blob);
        context.blocks.putCopy(key, bytes);
        yield bytes;
      })();
    },
    async readLocalPartition(nodeId, partition, level) {
      const block = await context.blocks.get(blockKey(descriptor.scope, nodeId, partition), level);
      if (block && level === 'memory') sources.cachedFromMemory++;
      else if (block) sources.cachedFromDisk++;
      return block;
    },
    broadcastValue: (id) => {
      const bytes = broadcasts.get(id);
      if (!bytes) {
        throw new NonRetryableTaskError(`stage descriptor names no blob for broadcast ${id}`);
      }
      // A copy per task (the runtime asks once per task): a task that mutates its value must not
      // change another task's.
      return decodeBroadcastValue(bytes);
    },
    openSavedPart(partition) {
      if (!descriptor.save) {
        throw new NonRetryableTaskError(`stage descriptor of a save stage has no save target`);
      }
      const part = new SavedPartWriter(
        blobs,
        descriptor.save,
        partition,
        context.executionId,
        outputBlockBytes(descriptor.memoryBudgetBytes),
      );
      onSavedPart(part);
      return part;
    },
    spill: new TempFileSpillStore(context.tempDir),
    memoryBudgetBytes: descriptor.memoryBudgetBytes,
    // Between record batches: a CPU-bound map stops at its next batch when the executor shuts
    // down. Reads in flight are not raced with the signal: a blob read ends well within the
    // shutdown grace, and the thread's termination after it covers one that hangs.
    throwIfInterrupted: () => context.throwIfInterrupted(),
  };
}

/** Run one stage task. */
export const runStageTask: WorkKindRunner<StageWork> = async (work, context): Promise<TaskOutcome> => {
  const started = performance.now();
  const { blobs, message, execution, executionId } = context;
  const descriptor = await loadDescriptor(blobs, work.stageBlob, work.stageHash);
  if (descriptor.codeHash !== work.codeHash) {
    throw new NonRetryableTaskError(
      `task names bundle ${work.codeHash.slice(0, 12)} but stage descriptor ${work.stageBlob} names ${descriptor.codeHash.slice(0, 12)}`,
    );
  }
  // Every blob the driver wrote for this stage, verified before any code of the job loads.
  const broadcasts = await loadBroadcasts(blobs, descriptor);
  const shuffleTables = await loadShuffleTables(blobs, descriptor);
  const plan = descriptorPlan(descriptor);
  let savedPart: SavedPartWriter | undefined;
  let savedFiles: SavedFilesWriter | undefined;
  const sources: CacheSources = {
    cachedFromMemory: 0,
    cachedFromDisk: 0,
    cachedFromBlob: 0,
    cachedComputed: 0,
  };
  // A DataFrame stage runs the SQL program the driver bound (no bundle, no graph rebuild).
  const output: TaskOutput = descriptor.relational ? await runDataFrameStage() : await runGraphStage();

  async function runDataFrameStage(): Promise<TaskOutput> {
    context.throwIfInterrupted();
    return runRelationalStage(
      blobs,
      descriptor,
      message.partition,
      shuffleTables,
      (table, p) => fetchSegments(blobs, table, p, descriptor.memoryBudgetBytes),
      (table, p) => streamSegments(blobs, table, p),
      context.tempDir,
      (files) => {
        if (!descriptor.save)
          throw new NonRetryableTaskError('stage descriptor of a save stage has no save target');
        savedFiles = new SavedFilesWriter(blobs, descriptor.save, message.partition, context.executionId);
        return savedFiles.store(files);
      },
      context.signal,
    );
  }

  async function runGraphStage(): Promise<TaskOutput> {
    const definition = await loadBundle(blobs, work.codeHash);
    let graph: ReturnType<typeof buildJobGraph>;
    try {
      graph = buildJobGraph(definition, fromTaggedJson(descriptor.params as JsonValue) as never, {
        defaultParallelism: descriptor.defaultParallelism,
        // The driver's parses of the builder's ctx.sql texts: executors never parse SQL.
        sql: { parsed: (descriptor.sql ?? {}) as Readonly<Record<string, ParsedSql>> },
        // The driver's scan sizes: its broadcast joins of file scans are planned the same here.
        ...(descriptor.scanSizes ? { scanSizes: descriptor.scanSizes } : {}),
      });
    } catch (error) {
      throw new NonRetryableTaskError(
        `the job builder threw on the executor but not on the driver (builders must be deterministic): ${coerceError(error).message}`,
        { cause: error },
      );
    }
    // The driver cannot call executors: nodes the run unpersisted are dropped here, at its next task.
    for (const nodeId of plan.releasedNodes ?? []) {
      context.blocks.release(nodeBlockPrefix(descriptor.scope, nodeId));
      context.blocks.release(copyKey(message.appId, cachedNodePrefix(descriptor.scope, nodeId)));
    }
    // Loading took its time: a task whose executor began shutting down meanwhile does not start.
    context.throwIfInterrupted();
    // The driver's broadcast values, never the ones this rebuild of the builder computed.
    const io = makeTaskIO(
      context,
      descriptor,
      broadcasts,
      shuffleTables,
      (part) => {
        savedPart = part;
      },
      sources,
    );
    return runTask(graph, plan, message.partition, io, {
      fingerprint: descriptor.fingerprint,
      parallelizeDigests: descriptor.parallelizeDigests,
    });
  }

  // Computed: its outputs are written even when shutdown began meanwhile (the shutdown grace
  // bounds it), since a finished task that reports spares its partition a second run.
  const written: string[] = [];
  const cachedPartitions: CachedPartition[] = [];
  for (const c of output.cachedOutputs) {
    sources.cachedComputed++;
    if (c.storage === 'memory' || c.storage === 'disk') {
      // Kept by this executor only (the driver is not told): a task elsewhere recomputes it.
      await context.blocks.put(blockKey(descriptor.scope, c.nodeId, c.partition), c.storage, c.data);
      continue;
    }
    const name = c.storage === 'checkpoint' ? checkpointPartitionBlobName : cachedPartitionBlobName;
    const blob = name(descriptor.scope, c.nodeId, c.partition, executionId);
    written.push(blob);
    await blobs.put(DATA_CONTAINER, blob, c.data);
    // Kept here too: a later task on this executor naming this blob reads memory, not Blob.
    context.blocks.putCopy(copyKey(message.appId, blob), c.data);
    cachedPartitions.push({
      nodeId: c.nodeId,
      partition: c.partition,
      blob,
      records: c.records,
      bytes: c.data.length,
    });
  }
  const outcome: TaskOutcome = {
    metrics: { ...output.metrics, ...sources, durationMs: performance.now() - started },
    accumulators: output.accumulatorUpdates,
  };
  if (cachedPartitions.length > 0) outcome.cachedPartitions = cachedPartitions;

  if (output.kind === 'shuffle-map') {
    const shuffleId = plan.shuffle!.shuffleId;
    // The run's scope, not the application's: shuffle ids restart at 0 in every run.
    const blob = mapOutputBlobName(descriptor.scope, shuffleId, message.partition, execution);
    // One blob per map execution holding all R segments back to back; sizes index it.
    written.push(blob);
    await writeMapOutput(blobs, blob, output.mapOutput, outputBlockBytes(descriptor.memoryBudgetBytes));
    outcome.mapOutputBlob = blob;
    outcome.segmentSizes = [...output.mapOutput.segmentSizes];
  } else if (output.kind === 'saved-part' && savedFiles) {
    outcome.result = savedFiles.result();
    written.push(...savedFiles.attemptBlobs());
  } else if (output.kind === 'saved-part') {
    if (!savedPart) throw new Error('internal: a save task finished without opening its part file');
    outcome.result = savedPart.result(output.result);
    // An attempt blob of a local-folder target is ours to discard; a final az:// part blob is not
    // (its staged blocks are invisible and Azure drops them; deleting it could drop old output).
    if (savedPart.container === DATA_CONTAINER) written.push(savedPart.blob);
  } else {
    outcome.result = await packResult(context, descriptor, plan.codec, output.result);
    if ('blob' in outcome.result) written.push(outcome.result.blob);
  }
  await discardIfApplicationEnded(blobs, message.appId, written);
  return outcome;
};

/**
 * A result travels inline, as tagged JSON, when that is small, else through a blob named by the
 * execution holding one record of the stage's codec (compressed when the stage's shuffles are).
 * Either way Dates, bigints, Maps… arrive as they are.
 */
async function packResult(
  context: TaskContext,
  descriptor: StageDescriptor,
  codecName: string | undefined,
  result: unknown,
): Promise<TaskResult> {
  const codec = getCodec(codecName);
  const bytes = codec.encode([result], 'result');
  // Binary is smaller than JSON: only a result whose encoding fits can fit inline.
  if (bytes.length <= descriptor.inlineResultMaxBytes) {
    const tagged = toTaggedJson(result);
    if (Buffer.byteLength(JSON.stringify(tagged)) <= descriptor.inlineResultMaxBytes) {
      return { inline: tagged, tagged: true };
    }
  }
  const blob = resultBlobName(descriptor.scope, context.executionId);
  await context.blobs.put(DATA_CONTAINER, blob, bytes);
  return { blob, bytes: bytes.length, codec: codec.name };
}
