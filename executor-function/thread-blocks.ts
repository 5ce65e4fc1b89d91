/**
 * A task thread's view of its executor's persisted blocks (block-manager.ts on the main
 * thread): the snapshot of its application's blocks that came with the run, and the blocks the
 * task stores and the nodes it releases, which go back with its outcome. A block's key is
 * `<scope>/<nodeId>/<partition>` (scope `<appId>/run-<n>`), so runs and applications never
 * share one. 'memory' blocks travel as SharedArrayBuffers (no copy); a 'disk' block is written
 * into the task's temp folder, which the main thread moves into the executor's block folder
 * once the task succeeded (a failed task's temp folder is removed with it).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LocalStorageLevel } from '../engine/plan/persistence.js';

/** What the main thread hands a task thread: its application's blocks. */
export interface BlockSnapshot {
  /** Key → 'memory' block. */
  memory: Record<string, SharedArrayBuffer>;
  /**
   * Copy key (`copyKey`) → this executor's in-memory copy of a partition stored in a blob
   * (`cache()`, checkpoint, handle), so a later task naming the same blob does not read it.
   */
  copies?: Record<string, SharedArrayBuffer>;
  /** Keys of 'disk' blocks (files in `diskDir`). */
  disk: string[];
  diskDir: string;
}

/** One block a task stored. */
export interface StoredBlockChange {
  key: string;
  level: LocalStorageLevel;
  bytes: number;
  /** 'memory': the block. */
  memory?: SharedArrayBuffer;
  /** 'disk': the file in the task's temp folder. */
  file?: string;
}

/** A copy of a blob-stored partition a task read from its blob or wrote to it. */
export interface StoredCopyChange {
  key: string;
  bytes: number;
  memory: SharedArrayBuffer;
}

/** What a task thread sends back: blocks stored, and key prefixes (released nodes) to drop. */
export interface BlockChanges {
  stored: StoredBlockChange[];
  released: string[];
  /** Copies of blob-stored partitions to keep (absent when none). */
  copies?: StoredCopyChange[];
  /** Copy keys the task read from memory: the most recently used now (LRU). */
  copiesRead?: string[];
}

/**
 * The key of this executor's memory copy of the blob-stored partition `blob` of application
 * `appId`. A blob of a cached, checkpointed or handle partition is named by the run's scope, the
 * node, the partition and the execution that wrote it, and is written once, never overwritten:
 * its name is its version, so a copy can be stale only if the driver named a deleted blob again,
 * which it never does (unpersist forgets the blobs it deletes). The application leads the key so
 * a task is only ever handed its own application's copies.
 */
export function copyKey(appId: string, blob: string): string {
  return `${appId}/copy/${blob}`;
}

/** The key of a partition of a node persisted in run `scope`. */
export function blockKey(scope: string, nodeId: number, partition: number): string {
  return `${nodeBlockPrefix(scope, nodeId)}${partition}`;
}

/** The prefix of every block of a node in run `scope`. */
export function nodeBlockPrefix(scope: string, nodeId: number): string {
  return `${scope}/${nodeId}/`;
}

/** The file of a 'disk' block in the executor's block folder. */
export function diskBlockFile(dir: string, key: string): string {
  return path.join(dir, `${encodeURIComponent(key)}.bin`);
}

/** The blocks a stage task reads and stores (TaskContext.blocks). */
export interface ExecutorBlocks {
  /** The executor's copy of a block, or undefined (then the task recomputes the partition). */
  get(key: string, level: LocalStorageLevel): Promise<Uint8Array | undefined>;
  /** Keep a block on this executor, if the task succeeds. */
  put(key: string, level: LocalStorageLevel, data: Uint8Array): Promise<void>;
  /** Drop every block whose key starts with `prefix` (a node the run released). */
  release(prefix: string): void;
  /** This executor's memory copy of a blob-stored partition (`copyKey`), or undefined. */
  getCopy(key: string): Uint8Array | undefined;
  /** Keep a memory copy of a blob-stored partition, if the task succeeds. */
  putCopy(key: string, data: Uint8Array): void;
}

/** ExecutorBlocks inside a task thread, over the run's snapshot. */
export class ThreadBlocks implements ExecutorBlocks {
  private readonly changes: BlockChanges = { stored: [], released: [] };
  private readonly copies: StoredCopyChange[] = [];
  private readonly copiesRead: string[] = [];

  constructor(
    private readonly snapshot: BlockSnapshot | undefined,
    /** The task's private temp folder, where its disk blocks wait until it succeeds. */
    private readonly tempDir: string,
  ) {}

  async get(key: string, level: LocalStorageLevel): Promise<Uint8Array | undefined> {
    if (!this.snapshot || this.changes.released.some((p) => key.startsWith(p))) return undefined;
    if (level === 'memory') {
      const block = this.snapshot.memory[key];
      return block ? new Uint8Array(block) : undefined;
    }
    if (!this.snapshot.disk.includes(key)) return undefined;
    try {
      return await readFile(diskBlockFile(this.snapshot.diskDir, key));
    } catch (error) {
      // Evicted since the snapshot: a miss, and the partition is recomputed.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async put(key: string, level: LocalStorageLevel, data: Uint8Array): Promise<void> {
    if (level === 'memory') {
      const memory = new SharedArrayBuffer(data.byteLength);
      new Uint8Array(memory).set(data);
      this.changes.stored.push({ key, level, bytes: data.byteLength, memory });
      return;
    }
    const file = path.join(this.tempDir, `block-${this.changes.stored.length}.bin`);
    await writeFile(file, data);
    this.changes.stored.push({ key, level, bytes: data.byteLength, file });
  }

  release(prefix: string): void {
    if (!this.changes.released.includes(prefix)) this.changes.released.push(prefix);
  }

  getCopy(key: string): Uint8Array | undefined {
    if (this.changes.released.some((p) => key.startsWith(p))) return undefined;
    const copy = this.snapshot?.copies?.[key];
    if (!copy) return undefined;
    this.copiesRead.push(key);
    // A Buffer over the shared memory, no copy: readers decode it and never write to it.
    return Buffer.from(copy);
  }

  putCopy(key: string, data: Uint8Array): void {
    const memory = new SharedArrayBuffer(data.byteLength);
    new Uint8Array(memory).set(data);
    this.copies.push({ key, bytes: data.byteLength, memory });
  }

  /** What to send back with the task's outcome (undefined when nothing changed). */
  collect(): BlockChanges | undefined {
    const { copies, copiesRead } = this;
    const { stored, released } = this.changes;
    if (stored.length + released.length + copies.length + copiesRead.length === 0) return undefined;
    return {
      ...this.changes,
      ...(copies.length > 0 ? { copies } : {}),
      ...(copiesRead.length > 0 ? { copiesRead } : {}),
    };
  }
}
