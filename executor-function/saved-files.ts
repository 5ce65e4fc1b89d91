/**
 * The part files of one DataFrame write task (one, or one per partition value tuple), stored
 * the way a Dataset save stores its one part so that only the driver's commit makes any of
 * them visible: for an az:// target as uncommitted blocks on each file's final blob (the
 * driver's Put Block List of the winning execution's blocks commits it), for a local target
 * as execution-named attempt blobs the driver downloads. The list of files travels in a
 * manifest blob named by the execution (the success event stays small however many folders
 * the task wrote), so a duplicate delivery's files are never listed by the winner's manifest.
 */
import { createReadStream } from 'node:fs';
import { DATA_CONTAINER } from '../contract/names.js';
import type { TaskResult } from '../contract/protocol.js';
import type { SaveTarget } from '../engine/plan/stage-descriptor.js';
import type { SavedFileEntry, SavedFilesManifest } from '../engine/sql/write-spec.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BlockBlobWriter } from '../storage/block-writer.js';

/** One local file to store: its path below the output and its rows. */
export interface LocalPartFile {
  relativePath: string;
  file: string;
  rows: number;
}

/** Stores one write task's files and describes them in its success event. */
export class SavedFilesWriter {
  private readonly entries: SavedFileEntry[] = [];
  private manifestBlob: string | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly save: SaveTarget,
    private readonly partition: number,
    private readonly executionId: string,
  ) {}

  /** Store every file (one after another), then the manifest. */
  async store(files: readonly LocalPartFile[]): Promise<{ records: number; bytes: number }> {
    for (const f of files) {
      const remote = this.save.blobTarget;
      const container = remote ? remote.container : DATA_CONTAINER;
      const blob = remote
        ? `${remote.prefix}${f.relativePath}`
        : `${this.save.attemptPrefix}files/${f.relativePath}.${this.executionId}`;
      const writer = new BlockBlobWriter(this.blobs, container, blob, { commit: !remote });
      for await (const chunk of createReadStream(f.file) as AsyncIterable<Buffer>) await writer.write(chunk);
      const staged = await writer.finish();
      this.entries.push({
        path: f.relativePath,
        records: f.rows,
        bytes: staged.bytes,
        ...(remote ? { stagedBlocks: { token: staged.token, count: staged.blockIds.length } } : { blob }),
      });
    }
    const manifest: SavedFilesManifest = { files: this.entries };
    const name = `${this.save.attemptPrefix}manifest-${String(this.partition).padStart(5, '0')}-${this.executionId}.json`;
    await this.blobs.put(DATA_CONTAINER, name, JSON.stringify(manifest));
    this.manifestBlob = name;
    return {
      records: this.entries.reduce((n, e) => n + e.records, 0),
      bytes: this.entries.reduce((n, e) => n + e.bytes, 0),
    };
  }

  /** The success event's result; call after `store`. */
  result(): TaskResult {
    if (!this.manifestBlob) throw new Error('internal: write task reported before its files were stored');
    return {
      manifest: this.manifestBlob,
      files: this.entries.length,
      records: this.entries.reduce((n, e) => n + e.records, 0),
      bytes: this.entries.reduce((n, e) => n + e.bytes, 0),
    };
  }

  /** Blobs of the data container this execution wrote (discarded when the application has ended). */
  attemptBlobs(): string[] {
    const blobs = this.entries.flatMap((e) => (e.blob ? [e.blob] : []));
    return this.manifestBlob ? [...blobs, this.manifestBlob] : blobs;
  }
}
