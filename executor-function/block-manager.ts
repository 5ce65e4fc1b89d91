/**
 * ExecutorBlockManager: the partitions this executor keeps for datasets persisted at 'memory'
 * or 'disk' — Spark's BlockManager, reduced to what a Functions instance can do. It lives on
 * the main thread, which outlives task threads (a killed task's thread is replaced): 'memory'
 * blocks are SharedArrayBuffers (handed to task threads without a copy), 'disk' blocks files
 * in one folder under the instance's temp dir. A task thread gets a snapshot of its
 * application's blocks with each run (thread-blocks.ts), and its new blocks and released
 * nodes come back with its outcome; only a successful task's blocks are kept.
 *
 * Each level is bounded (STRATUS_PERSIST_MEMORY_MB, default 512; STRATUS_PERSIST_DISK_MB,
 * default 2048); the blocks stored longest ago go first, as Spark's MemoryStore evicts. The
 * driver cannot call an executor: blocks of a node the run released go when a later task of
 * the run arrives (the stage plan lists them), and every block goes with the instance.
 * Nothing here is required for correctness: a missing block is recomputed from its lineage.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LocalStorageLevel } from '../engine/plan/persistence.js';
import { type BlockChanges, type BlockSnapshot, diskBlockFile } from './thread-blocks.js';

/** Default bound of the 'memory' level (MiB); `STRATUS_PERSIST_MEMORY_MB` overrides it. */
export const DEFAULT_PERSIST_MEMORY_MB = 512;
/** Default bound of the 'disk' level (MiB); `STRATUS_PERSIST_DISK_MB` overrides it. */
export const DEFAULT_PERSIST_DISK_MB = 2048;

interface StoredBlock {
  bytes: number;
  memory?: SharedArrayBuffer;
}

/** The bounds of each level, in bytes. */
export interface BlockManagerLimits {
  memoryBytes: number;
  diskBytes: number;
}

/** The bounds the environment asks for (MiB settings), else the defaults. */
export function blockLimitsFromEnv(env: NodeJS.ProcessEnv): BlockManagerLimits {
  const mb = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    return (Number.isFinite(value) && value >= 0 ? value : fallback) * 1024 * 1024;
  };
  return {
    memoryBytes: mb('STRATUS_PERSIST_MEMORY_MB', DEFAULT_PERSIST_MEMORY_MB),
    diskBytes: mb('STRATUS_PERSIST_DISK_MB', DEFAULT_PERSIST_DISK_MB),
  };
}

/** The persisted blocks of one executor process. */
export class ExecutorBlockManager {
  private readonly levels: Record<LocalStorageLevel, Map<string, StoredBlock>> = {
    memory: new Map(),
    disk: new Map(),
  };
  private readonly used: Record<LocalStorageLevel, number> = { memory: 0, disk: 0 };
  /** Blocks evicted to stay under a bound. */
  evicted = 0;

  constructor(
    private readonly limits: BlockManagerLimits,
    /** The folder of 'disk' blocks (made on first use, removed by close). */
    readonly diskDir = path.join(tmpdir(), `stratus-blocks-${process.pid}`),
  ) {}

  /** What a task of application `appId` may read: its memory blocks and the disk folder. */
  snapshot(appId: string): BlockSnapshot {
    const memory: Record<string, SharedArrayBuffer> = {};
    const disk: string[] = [];
    const prefix = `${appId}/`;
    for (const [key, block] of this.levels.memory) if (key.startsWith(prefix)) memory[key] = block.memory!;
    for (const key of this.levels.disk.keys()) if (key.startsWith(prefix)) disk.push(key);
    return { memory, disk, diskDir: this.diskDir };
  }

  /** Take what a successful task stored and released. Disk blocks are moved out of the task's temp folder. */
  accept(changes: BlockChanges | undefined): void {
    if (!changes) return;
    for (const prefix of changes.released) this.release(prefix);
    for (const block of changes.stored) {
      const level = block.level;
      if (block.bytes > (level === 'memory' ? this.limits.memoryBytes : this.limits.diskBytes)) {
        if (block.file) rmSync(block.file, { force: true });
        continue;
      }
      this.remove(level, block.key);
      if (level === 'disk') {
        mkdirSync(this.diskDir, { recursive: true });
        // Same file system (both under the temp dir): the block appears whole or not at all.
        renameSync(block.file!, diskBlockFile(this.diskDir, block.key));
      }
      this.levels[level].set(block.key, {
        bytes: block.bytes,
        ...(block.memory ? { memory: block.memory } : {}),
      });
      this.used[level] += block.bytes;
      this.evictOver(level);
    }
  }

  /** Drop every block whose key starts with `prefix` (a released node: `<scope>/<nodeId>/`). */
  release(prefix: string): void {
    for (const level of ['memory', 'disk'] as const) {
      for (const key of [...this.levels[level].keys()]) if (key.startsWith(prefix)) this.remove(level, key);
    }
  }

  /** Bytes held at a level. */
  bytesAt(level: LocalStorageLevel): number {
    return this.used[level];
  }

  /** Drop everything and remove the disk folder (the executor is shutting down). */
  close(): void {
    this.levels.memory.clear();
    this.levels.disk.clear();
    this.used.memory = this.used.disk = 0;
    rmSync(this.diskDir, { recursive: true, force: true });
  }

  private evictOver(level: LocalStorageLevel): void {
    const limit = level === 'memory' ? this.limits.memoryBytes : this.limits.diskBytes;
    for (const key of this.levels[level].keys()) {
      if (this.used[level] <= limit) return;
      this.remove(level, key);
      this.evicted++;
    }
  }

  private remove(level: LocalStorageLevel, key: string): void {
    const block = this.levels[level].get(key);
    if (!block) return;
    this.levels[level].delete(key);
    this.used[level] -= block.bytes;
    // A thread reading the file now keeps its open handle; one that opens it later finds none and recomputes.
    if (level === 'disk') rmSync(diskBlockFile(this.diskDir, key), { force: true });
  }
}
