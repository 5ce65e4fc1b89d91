/**
 * How a stage task's outputs reach storage without being held whole: a map output is
 * streamed, segment after segment, into staged blocks of its execution-named blob, which the
 * task commits itself (the driver picks the winner by name); a saved part file is streamed
 * as it is produced — to an attempt blob for a local target, or as uncommitted blocks of
 * the final part blob for an az:// target, which only the driver's Put Block List of the
 * winning execution's blocks ever makes visible.
 */

import { DATA_CONTAINER } from '../contract/names.js';
import type { TaskResult } from '../contract/protocol.js';
import { partFileName, type SavedPartSummary } from '../engine/dataset/actions.js';
import type { SaveTarget } from '../engine/plan/stage-descriptor.js';
import type { MapOutput } from '../engine/shuffle/map-output.js';
import type { SavedPartSink } from '../engine/task/task-io.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BlockBlobWriter, type StagedBlocks } from '../storage/block-writer.js';

/**
 * Write `output`'s R segments back to back into blob `name` (data container), committed, and
 * delete its spilled runs. The blob holds exactly the bytes the segment sizes describe.
 */
export async function writeMapOutput(
  blobs: BlobStore,
  name: string,
  output: MapOutput,
  blockBytes?: number,
): Promise<void> {
  try {
    const writer = new BlockBlobWriter(blobs, DATA_CONTAINER, name, {
      commit: true,
      ...(blockBytes ? { blockBytes } : {}),
    });
    for (let p = 0; p < output.segmentSizes.length; p++) {
      for await (const chunk of output.readSegment(p)) await writer.write(chunk);
    }
    const { bytes } = await writer.finish();
    const expected = output.segmentSizes.reduce((n, s) => n + s, 0);
    if (bytes !== expected)
      throw new Error(`internal: map output ${name} has ${bytes} bytes, not ${expected}`);
  } finally {
    await output.discard();
  }
}

/** The part file one save task writes: the engine's sink, then the result its success event carries. */
export class SavedPartWriter implements SavedPartSink {
  private readonly writer: BlockBlobWriter;
  /** Where the bytes go: the final part blob (az:// target) or this execution's attempt blob. */
  readonly container: string;
  readonly blob: string;
  private readonly uncommitted: boolean;
  private staged: StagedBlocks | undefined;

  constructor(
    blobs: BlobStore,
    save: SaveTarget,
    partition: number,
    executionId: string,
    blockBytes?: number,
  ) {
    if (save.blobTarget) {
      this.container = save.blobTarget.container;
      this.blob = `${save.blobTarget.prefix}${partFileName(partition)}`;
      this.uncommitted = true;
    } else {
      this.container = DATA_CONTAINER;
      this.blob = `${save.attemptPrefix}${partFileName(partition)}-${executionId}`;
      this.uncommitted = false;
    }
    this.writer = new BlockBlobWriter(blobs, this.container, this.blob, {
      commit: !this.uncommitted,
      ...(blockBytes ? { blockBytes } : {}),
    });
  }

  write(text: string): Promise<void> {
    return this.writer.write(Buffer.from(text, 'utf8'));
  }

  /** Append bytes as they are (a DataFrame's Parquet part). */
  writeBytes(chunk: Buffer): Promise<void> {
    return this.writer.write(chunk);
  }

  async close(): Promise<void> {
    this.staged = await this.writer.finish();
  }

  /** The success event's result for the part the engine summarised; call after `close`. */
  result(summary: SavedPartSummary): TaskResult {
    const staged = this.staged;
    if (!staged) throw new Error(`internal: part ${this.blob} reported before it was closed`);
    if (staged.bytes !== summary.bytes) {
      throw new Error(
        `internal: part ${this.blob} stored ${staged.bytes} bytes, the task wrote ${summary.bytes}`,
      );
    }
    if (this.uncommitted) {
      return {
        stagedBlocks: { token: staged.token, count: staged.blockIds.length },
        bytes: staged.bytes,
        records: summary.records,
      };
    }
    return { blob: this.blob, bytes: staged.bytes, records: summary.records };
  }
}
