/**
 * The in-memory runner's stand-ins for what executors hold and what the driver's input
 * splitting gives: partitions persisted at 'memory' / 'disk' kept per simulated executor
 * (tasks are dealt round-robin, so with more than one executor a later task may land where the
 * partition is not, and recompute it — as on Azure Functions, where any instance may take any
 * task from the queue), and the files of whole-file sources, packed into partitions by the
 * driver's rule and read as an executor reads them (a marker per file, then its bytes).
 */
import { type LocalStorageLevel, STORAGE_LEVELS } from '../plan/persistence.js';
import { packWholeFiles } from '../plan/whole-file-partitions.js';
import type { SourceSplitStart } from '../records/record-formats.js';

/** A file of a whole-file source given to the in-memory runner. */
export interface InMemoryFile {
  /** The path a record names (`[path, content]`). */
  path: string;
  /** Text (stored as UTF-8) or bytes. */
  content: string | Uint8Array;
}

const bytesOf = (file: InMemoryFile) =>
  typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : Buffer.from(file.content);

/** `files` packed into partitions as the driver packs a whole-file source's files (packWholeFiles). */
export function wholeFilePartitions(
  files: readonly InMemoryFile[],
  minPartitions: number,
  maxPartitionBytes?: number,
): InMemoryFile[][] {
  const sizes = files.map((f) => bytesOf(f).length);
  return packWholeFiles(sizes, minPartitions, maxPartitionBytes).map((part) => part.map((i) => files[i]!));
}

/** Partitions persisted on each simulated executor, by level, and how reads of them went. */
export class InMemoryExecutorBlocks {
  private readonly stores: Map<string, Buffer>[];
  private current = -1;
  /** Reads of locally persisted partitions: found on the task's executor, or not (recomputed). */
  readonly reads = { hits: 0, misses: 0 };

  constructor(executors: number) {
    if (!Number.isInteger(executors) || executors < 1)
      throw new Error(`executors must be ≥ 1, got ${executors}`);
    this.stores = Array.from({ length: executors }, () => new Map());
  }

  /** The next task goes to the next executor, which first drops the nodes the run released. */
  dealTask(released: readonly number[] = []): void {
    this.current = (this.current + 1) % this.stores.length;
    for (const nodeId of released) this.drop(this.stores[this.current]!, nodeId);
  }

  /** The task's executor's copy of a partition, if it has one. */
  read(nodeId: number, partition: number, level: LocalStorageLevel): Buffer | undefined {
    const found = this.stores[Math.max(0, this.current)]!.get(key(nodeId, partition, level));
    if (found) this.reads.hits++;
    else this.reads.misses++;
    return found;
  }

  /** Keep a partition the task computed on the task's executor. */
  keep(nodeId: number, partition: number, level: LocalStorageLevel, data: Buffer): void {
    this.stores[Math.max(0, this.current)]!.set(key(nodeId, partition, level), data);
  }

  /** Drop a node's copies on every executor; true when there were any. */
  release(nodeId: number): boolean {
    let had = false;
    for (const store of this.stores) had = this.drop(store, nodeId) || had;
    return had;
  }

  private drop(store: Map<string, Buffer>, nodeId: number): boolean {
    let had = false;
    for (const k of [...store.keys()]) {
      if (k.startsWith(`${nodeId}/`)) had = store.delete(k) || had;
    }
    return had;
  }

  /** What TaskIO.readSource yields for a whole-file partition: per file a marker, then its bytes in two chunks. */
  static async *readWholeFiles(files: readonly InMemoryFile[]): AsyncGenerator<SourceSplitStart | Buffer> {
    for (const file of files) {
      yield { kind: 'split-start', file: file.path, offset: 0 };
      const bytes = bytesOf(file);
      // Cut mid-way, so a file's content (and a UTF-8 character) straddles chunks.
      const cut = Math.floor(bytes.length / 2);
      if (cut > 0) yield bytes.subarray(0, cut);
      if (bytes.length > cut) yield bytes.subarray(cut);
    }
  }
}

function key(nodeId: number, partition: number, level: LocalStorageLevel): string {
  if (!STORAGE_LEVELS.includes(level)) throw new Error(`internal: storage level ${level}`);
  return `${nodeId}/${partition}/${level}`;
}
