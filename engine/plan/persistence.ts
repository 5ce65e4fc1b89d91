/**
 * Persistence of a dataset's partitions between the jobs of one run — Spark's StorageLevel,
 * `persist`/`unpersist` and reliable `checkpoint` — as the planner and the task runtime see
 * it. A node may be persisted at one storage level and, independently, checkpointed:
 *
 *  - `'blob'` (the default, and what `cache()` means here): the task that computes a
 *    partition writes it to Blob Storage; once every partition is stored, later jobs of the
 *    run read the blobs and the stages that produced them never run (planJob lists their
 *    shuffle-map stages, flagged `aboveCache`, as Spark lists them skipped). Any executor can
 *    read them, so it does not matter which instance picks a later task.
 *  - `'memory'` / `'disk'`: the partition stays on the executor that computed it (in its
 *    process memory / its local temp disk). A later task reads it only when it lands on that
 *    executor; anywhere else the partition is recomputed from its lineage (and kept there
 *    too). So the planner keeps the lineage in the stage (its shuffle-map stages are skipped
 *    anyway: their shuffles exist) and the task decides at run time.
 *  - checkpoint: like `'blob'`, but the blobs are the dataset's reliable copy: its lineage is
 *    truncated for the rest of the run (the plan reads the checkpoint as a source), and
 *    `unpersist` does not release it. It goes with the application's blobs.
 *
 * The graph says what the builder asked for; what the driver has done since (partitions
 * stored, nodes released by `unpersist`) is run state passed to planJob (PlanOptions).
 */
import { ConfigError } from '../../contract/errors.js';

/** Where persisted partitions are kept (Spark's MEMORY_ONLY, DISK_ONLY, and a reliable blob copy). */
export type StorageLevel = 'memory' | 'disk' | 'blob';

/** The storage levels kept on one executor: reached only by tasks that land there. */
export type LocalStorageLevel = Exclude<StorageLevel, 'blob'>;

/** Every storage level, for validation and docs. */
export const STORAGE_LEVELS: readonly StorageLevel[] = ['memory', 'disk', 'blob'];

/**
 * The level of `persist()` without an argument and of `cache()`. Spark's is MEMORY_ONLY; on
 * Azure Functions a task goes to whichever instance polls the queue first, so an executor's
 * memory is hit by chance only, and Blob Storage is the level every executor can read
 * (docs/decisions.md).
 */
export const DEFAULT_STORAGE_LEVEL: StorageLevel = 'blob';

/** Throws ConfigError unless `level` is a StorageLevel; `what` names the call. */
export function checkStorageLevel(level: unknown, what: string): asserts level is StorageLevel {
  if (!STORAGE_LEVELS.includes(level as StorageLevel)) {
    throw new ConfigError(
      `${what}: the storage level must be one of ${STORAGE_LEVELS.map((l) => `'${l}'`).join(', ')}, got ${JSON.stringify(level)}`,
    );
  }
}

/** What the builder asked of one node. */
export interface NodePersistence {
  /** `persist(level)` / `cache()`; undefined when not persisted. */
  readonly storageLevel: StorageLevel | undefined;
  /** `checkpoint()`. */
  readonly checkpoint: boolean;
}

/** How one stage treats a node: read from blobs, keep on the executor, or write to blobs. */
export type PersistRole =
  | { kind: 'read-blob' }
  | { kind: 'on-executor'; level: LocalStorageLevel }
  | { kind: 'write-blob'; checkpoint: boolean }
  | { kind: 'none' };

/**
 * The role of `node` in a plan: `stored` holds nodes every partition of which is in blobs
 * (persisted at 'blob' or checkpointed, by an earlier job of the run); `released` those
 * `unpersist` released (their persist level no longer applies; a checkpoint still does).
 */
export function persistRole(
  node: NodePersistence & { readonly id: number },
  stored: ReadonlySet<number>,
  released: ReadonlySet<number>,
): PersistRole {
  if (stored.has(node.id)) return { kind: 'read-blob' };
  const level = released.has(node.id) ? undefined : node.storageLevel;
  if (node.checkpoint || level === 'blob') return { kind: 'write-blob', checkpoint: node.checkpoint };
  if (level === 'memory' || level === 'disk') return { kind: 'on-executor', level };
  return { kind: 'none' };
}
