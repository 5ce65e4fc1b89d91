/**
 * The stage descriptor: the blob every task of one stage reads before it runs (named in
 * the task message, written once by the driver). It carries what is too large for a queue
 * message — the job's params, the stage plan, where each input partition, shuffle, cached
 * partition and broadcast value lives — so the executor can rebuild the job graph and run its task.
 */
import { z } from 'zod';
import { ProtocolError } from '../../contract/errors.js';
import type { StagePlan } from './stages.js';

/** Version of the descriptor format. */
export const STAGE_DESCRIPTOR_VERSION = 1;

const int = z.number().int().nonnegative();

/** A byte range [start, end) of a blob. */
const ByteRangeSchema = z.tuple([int, int]);

/**
 * The row groups of one Parquet file that a split reads, as the driver found them in the file's
 * footer: the task fetches the footer and these column chunks by range into a sparse local copy
 * of the file, and reads only rows [firstRow, firstRow + numRows) of each.
 */
export const ParquetSplitSchema = z.object({
  /** The footer, its 4-byte length and the closing magic: the file's last bytes. */
  footer: ByteRangeSchema,
  rowGroups: z.array(
    z.object({
      index: int,
      firstRow: int,
      numRows: int,
      /** Each column chunk of the row group: its top-level column (lower case) and bytes. */
      chunks: z.array(
        z.object({ column: z.string(), range: ByteRangeSchema, bloom: ByteRangeSchema.optional() }),
      ),
    }),
  ),
  /** The file's top-level columns, when the scan reads columns it lacks (mergeSchema): those are null. */
  fileColumns: z.array(z.string()).optional(),
});

/**
 * One piece of an input partition: a byte range of a blob whose records are the ones that
 * START inside [start, end) (a record straddling `end` is read to its end; one straddling
 * `start` belongs to the previous split). `end` undefined means to the end of the blob;
 * gzip blobs are always read whole.
 */
export const InputSplitSchema = z.object({
  kind: z.literal('blob').default('blob'),
  container: z.string().min(1),
  blob: z.string().min(1),
  start: int.default(0),
  end: int.optional(),
  /** The blob's size when the driver knows it (saves a request). */
  fileSize: int.optional(),
  gzip: z.boolean().default(false),
  /** The file the user named (local path or az:// address), for error messages. */
  source: z.string().optional(),
  /** Offset of the split in that file (differs from `start` for uploaded local partitions). */
  sourceOffset: int.optional(),
  /** The file's line number of the split's first line, when the driver counted it (local files). */
  sourceLine: z.number().int().positive().optional(),
  /** CSV column names the driver read from the source's header. */
  columns: z.array(z.string()).optional(),
  /** A Parquet split: some row groups of one file, read by range (engine/sql/parquet-split.ts). */
  parquet: ParquetSplitSchema.optional(),
});

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * Where the outputs of one shuffle's winning map attempts are listed, and the sha256 of that
 * table blob's bytes (the driver writes it before the reading stage's descriptor, so the
 * descriptor pins it; executors check it before use).
 */
export const ShuffleLocationSchema = z.object({ tableBlob: z.string().min(1), sha256: sha256.optional() });

/** Where the driver put one broadcast value (record codec, one record), and the sha256 of its bytes. */
export const BroadcastLocationSchema = z.object({ blob: z.string().min(1), sha256: sha256.optional() });

/** Where a save action's task attempts write their part files. */
export const SaveTargetSchema = z.object({
  /** Blob prefix (data container) for attempt-named part files; the driver commits the winners. */
  attemptPrefix: z.string().min(1),
  /**
   * For az:// targets: the target's container and prefix. Tasks then stage their part's
   * bytes as uncommitted blocks on the final blob `<prefix>part-NNNNN`, and the driver
   * commits the winner's block list; `attemptPrefix` is unused.
   */
  blobTarget: z.object({ container: z.string().min(3), prefix: z.string() }).optional(),
});

export type SaveTarget = z.infer<typeof SaveTargetSchema>;

export const StageDescriptorSchema = z.object({
  v: z.literal(STAGE_DESCRIPTOR_VERSION),
  appId: z.string(),
  jobId: int,
  /**
   * Names the blobs the task writes: `<appId>/run-<n>`, one per `driver.run`, since shuffle
   * and node ids restart at 0 in every run's graph.
   */
  scope: z.string().min(1),
  /** The application-wide stage id (what task messages and events carry). */
  stageId: int,
  codeHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** The graph fingerprint the driver planned with; a rebuilt graph must match it. */
  fingerprint: z.string(),
  /** The driver's parallelize node id → content hash, to name the array that differs on a mismatch. */
  parallelizeDigests: z.record(z.string(), z.string()).default({}),
  /** The driver's parses of the builder's `ctx.sql` texts, by text (a rebuild of the graph uses them). */
  sql: z.record(z.string(), z.unknown()).optional(),
  /** The driver's size estimates of the file scans, by scan ordinal, when its graph was built with them (broadcast joins). */
  scanSizes: z.record(z.string(), z.number()).optional(),
  /** The params the builder is called with (JSON). */
  params: z.unknown(),
  defaultParallelism: z.number().int().positive(),
  /** The engine's StagePlan, as planJob produced it. */
  plan: z.record(z.string(), z.unknown()),
  /** File source node id → input partition → its splits in order. */
  inputs: z.record(z.string(), z.array(z.array(InputSplitSchema))).default({}),
  /** Shuffle id → its map-output table. */
  shuffles: z.record(z.string(), ShuffleLocationSchema).default({}),
  /** Cached node id → partition → blob of the cached partition. */
  cached: z.record(z.string(), z.array(z.string())).default({}),
  /** Broadcast id → the blob of the driver's value (every broadcast of the job). */
  broadcasts: z.record(z.string(), BroadcastLocationSchema).default({}),
  /** Per-task memory budget for aggregation and sorting before spilling (bytes). */
  memoryBudgetBytes: z.number().int().positive(),
  /** Results whose JSON is at most this many bytes travel inline in the success event. */
  inlineResultMaxBytes: int,
  save: SaveTargetSchema.optional(),
  /** A DataFrame stage: the program its tasks run with DuckDB (engine/sql/program.ts) instead of the plan's closures. */
  relational: z.record(z.string(), z.unknown()).optional(),
});

export type InputSplit = z.infer<typeof InputSplitSchema>;
export type StageDescriptor = z.infer<typeof StageDescriptorSchema>;
export type StageDescriptorInput = z.input<typeof StageDescriptorSchema>;

/** The descriptor's stage plan, typed. */
export function descriptorPlan(descriptor: StageDescriptor): StagePlan {
  return descriptor.plan as unknown as StagePlan;
}

/** Parse a descriptor blob's text; throws ProtocolError naming the blob and the field. */
export function parseStageDescriptor(text: string, blobName: string): StageDescriptor {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError(`stage descriptor ${blobName} is not JSON`, { blob: blobName });
  }
  const parsed = StageDescriptorSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new ProtocolError(`invalid stage descriptor ${blobName}: ${field}: ${issue?.message ?? ''}`, {
      blob: blobName,
      field,
    });
  }
  return parsed.data;
}

/** A map-output table (written by the driver's MapOutputTracker, read by reduce tasks). */
export const MapOutputTableSchema = z.object({
  shuffleId: int,
  numReducePartitions: int,
  outputs: z.array(z.object({ blob: z.string().min(1), segmentSizes: z.array(int) })),
});

export type MapOutputTableData = z.infer<typeof MapOutputTableSchema>;
