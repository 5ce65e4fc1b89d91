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

/** What a task thread sends back: blocks stored, and key prefixes (released nodes) to drop. */
export interface BlockChanges {
  stored: StoredBlockChange[];
  released: string[];
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
}

/** ExecutorBlocks inside a task thread, over the run's snapshot. */
export class ThreadBlocks implements ExecutorBlocks {
  private readonly changes: BlockChanges = { stored: [], released: [] };

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

  /** What to send back with the task's outcome (undefined when nothing changed). */
  collect(): BlockChanges | undefined {
    const { stored, released } = this.changes;
    return stored.length > 0 || released.length > 0 ? this.changes : undefined;
  }
}
