/**
 * Writes one block blob as a stream of staged blocks (Put Block), so a task never holds its
 * whole output in one buffer. The writer either commits the blocks itself (a map output: the
 * blob is named by its task execution, and the driver picks the winner by name) or leaves them
 * uncommitted for the driver to commit (a saved part file: the blob has its final name, and
 * only the winning attempt's blocks ever become its content, in one Put Block List).
 */
import { randomBytes } from 'node:crypto';
import type { BlobStore } from './blob-store.js';

/** Size of a staged block (bytes). Azure allows up to 4000 MiB; 8 MiB keeps requests few and buffers small. */
export const DEFAULT_BLOCK_BYTES = 8 * 1024 * 1024;

/** Blocks staged at once by one writer. */
const STAGE_CONCURRENCY = 2;

/** Azure's limit of committed blocks per block blob (50,000: 390 GiB at 8 MiB blocks). */
export const MAX_BLOCKS = 50_000;

/**
 * The id of block `index` of one writer: base64 of `<token>-<index, 6 digits>`. Azure needs
 * every block id of a blob to have the same length, and ids of different writers of the same
 * blob (concurrent attempts of one part) must never collide: the token is random per writer.
 */
export function blockId(token: string, index: number): string {
  return Buffer.from(`${token}-${String(index).padStart(6, '0')}`).toString('base64');
}

/** A fresh writer token: 16 hex characters. */
export function newBlockToken(): string {
  return randomBytes(8).toString('hex');
}

/** The ids a writer with `token` gave its first `count` blocks, in content order. */
export function blockIds(token: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => blockId(token, i));
}

/** What a finished writer staged. */
export interface StagedBlocks {
  /** The writer's token: its block ids are `blockIds(token, blockIds.length)`. */
  token: string;
  /** Block ids in content order. */
  blockIds: string[];
  /** Total bytes written. */
  bytes: number;
}

/**
 * Streams bytes into staged blocks of one blob; `finish()` flushes (and commits if asked).
 * It holds at most one block being filled and STAGE_CONCURRENCY blocks in flight. Chunks
 * passed to `write` must not be modified afterwards (they are staged without a copy).
 */
export class BlockBlobWriter {
  private readonly token = newBlockToken();
  private readonly blockIds: string[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private bytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly blobs: BlobStore,
    private readonly container: string,
    private readonly name: string,
    private readonly options: { commit: boolean; blockBytes?: number },
  ) {}

  /** Append bytes; resolves once buffered (waits while STAGE_CONCURRENCY blocks are in flight). */
  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.bytes += chunk.length;
    if (this.pendingBytes >= (this.options.blockBytes ?? DEFAULT_BLOCK_BYTES)) await this.stagePending();
  }

  /**
   * Stage what is buffered, wait for every block, commit when the writer owns the blob. A
   * committing writer that never filled a block writes the blob in one Put Blob instead (one
   * request, not two; its blockIds are then empty).
   */
  async finish(): Promise<StagedBlocks> {
    if (this.options.commit && this.blockIds.length === 0) {
      const body = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      await this.blobs.put(this.container, this.name, body);
      return { token: this.token, blockIds: [], bytes: this.bytes };
    }
    if (this.pendingBytes > 0) await this.stagePending();
    await Promise.all(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
    if (this.options.commit) await this.blobs.commitBlocks(this.container, this.name, this.blockIds);
    return { token: this.token, blockIds: [...this.blockIds], bytes: this.bytes };
  }

  private async stagePending(): Promise<void> {
    while (this.inFlight.size >= STAGE_CONCURRENCY) await Promise.race(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
    if (this.blockIds.length >= MAX_BLOCKS) {
      throw new Error(
        `${this.container}/${this.name}: more than ${MAX_BLOCKS} blocks of ${this.options.blockBytes ?? DEFAULT_BLOCK_BYTES} bytes (Azure's limit per blob)`,
      );
    }
    const body = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const id = blockId(this.token, this.blockIds.length);
    this.blockIds.push(id);
    const staging: Promise<void> = this.blobs
      .stageBlock(this.container, this.name, id, body)
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => this.inFlight.delete(staging));
    this.inFlight.add(staging);
  }
}
