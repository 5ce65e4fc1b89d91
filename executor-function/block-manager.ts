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
 *
 * It also keeps copies, in memory, of the partitions of blob-stored datasets (`cache()`,
 * checkpoints, handles) that this executor's tasks wrote or read (Spark's MemoryStore holding a
 * cached RDD's blocks): a later task, of this run or of a later run of the same driver session,
 * whose stage descriptor names the same blob reads the copy and not the blob. They have their
 * own bound (STRATUS_CACHE_MEMORY_MB, default 256) and are evicted least recently used first.
 * Copies are keyed by application and blob name (thread-blocks.ts `copyKey`), dropped with a
 * node the run unpersists and with every block of an application whose lease has ended.
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
/**
 * Default bound of the memory copies of blob-stored partitions (MiB), an eighth of a 2 GB Flex
 * instance; `STRATUS_CACHE_MEMORY_MB` overrides it (0 turns copies off).
 */
export const DEFAULT_CACHE_MEMORY_MB = 256;

interface StoredBlock {
  bytes: number;
  memory?: SharedArrayBuffer;
}

/** The bounds of each level, in bytes. */
export interface BlockManagerLimits {
  memoryBytes: number;
  diskBytes: number;
  /** Memory copies of blob-stored partitions (0: none kept). */
  copyBytes: number;
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
    copyBytes: mb('STRATUS_CACHE_MEMORY_MB', DEFAULT_CACHE_MEMORY_MB),
  };
}

/** The persisted blocks of one executor process. */
export class ExecutorBlockManager {
  private readonly levels: Record<LocalStorageLevel, Map<string, StoredBlock>> = {
    memory: new Map(),
    disk: new Map(),
  };
  private readonly used: Record<LocalStorageLevel, number> = { memory: 0, disk: 0 };
  /** Copies of blob-stored partitions, least recently used first (a Map keeps insertion order). */
  private readonly copies = new Map<string, StoredBlock>();
  private copyBytesUsed = 0;
  /** Blocks evicted to stay under a bound. */
  evicted = 0;
  /** Copies evicted to stay under STRATUS_CACHE_MEMORY_MB. */
  copiesEvicted = 0;

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
    const copies: Record<string, SharedArrayBuffer> = {};
    for (const [key, copy] of this.copies) if (key.startsWith(prefix)) copies[key] = copy.memory!;
    return { memory, disk, diskDir: this.diskDir, copies };
  }

  /** Take what a successful task stored and released. Disk blocks are moved out of the task's temp folder. */
  accept(changes: BlockChanges | undefined): void {
    if (!changes) return;
    for (const prefix of changes.released) this.release(prefix);
    for (const key of changes.copiesRead ?? []) this.touchCopy(key);
    for (const copy of changes.copies ?? []) this.keepCopy(copy.key, copy.bytes, copy.memory);
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

  /**
   * Drop every block and copy whose key starts with `prefix`: a released node (`<scope>/<nodeId>/`
   * for blocks, a `copyKey` prefix for copies) or a whole application (`<appId>/`).
   */
  release(prefix: string): void {
    for (const level of ['memory', 'disk'] as const) {
      for (const key of [...this.levels[level].keys()]) if (key.startsWith(prefix)) this.remove(level, key);
    }
    for (const key of [...this.copies.keys()]) if (key.startsWith(prefix)) this.removeCopy(key);
  }

  /** The applications holding blocks or copies here (to drop those whose lease has ended). */
  appIds(): string[] {
    const apps = new Set<string>();
    for (const map of [this.levels.memory, this.levels.disk, this.copies])
      for (const key of map.keys()) apps.add(key.slice(0, key.indexOf('/')));
    return [...apps];
  }

  /** Bytes held at a level. */
  bytesAt(level: LocalStorageLevel): number {
    return this.used[level];
  }

  /** Bytes held by copies of blob-stored partitions. */
  get copyBytes(): number {
    return this.copyBytesUsed;
  }

  /** Whether a copy is held under `key` (tests). */
  hasCopy(key: string): boolean {
    return this.copies.has(key);
  }

  private keepCopy(key: string, bytes: number, memory: SharedArrayBuffer): void {
    if (bytes > this.limits.copyBytes) return;
    this.removeCopy(key);
    this.copies.set(key, { bytes, memory });
    this.copyBytesUsed += bytes;
    for (const oldest of this.copies.keys()) {
      if (this.copyBytesUsed <= this.limits.copyBytes) break;
      this.removeCopy(oldest);
      this.copiesEvicted++;
    }
  }

  /** A copy read by a task becomes the most recently used. */
  private touchCopy(key: string): void {
    const copy = this.copies.get(key);
    if (!copy) return;
    this.copies.delete(key);
    this.copies.set(key, copy);
  }

  private removeCopy(key: string): void {
    const copy = this.copies.get(key);
    if (!copy) return;
    this.copies.delete(key);
    this.copyBytesUsed -= copy.bytes;
  }

  /** Drop everything and remove the disk folder (the executor is shutting down). */
  close(): void {
    this.levels.memory.clear();
    this.levels.disk.clear();
    this.copies.clear();
    this.used.memory = this.used.disk = this.copyBytesUsed = 0;
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
