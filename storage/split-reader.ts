/**
 * Reads one input split — a byte range of a blob — as the bytes of exactly the records that
 * START inside it, as Hadoop's LineRecordReader does for Spark's textFile: a split that does
 * not begin at offset 0 skips the partial record it starts in (that record belongs to the
 * split before), and every split reads past its end to finish its last record. Records end
 * at '\n' (so '\r\n' too); '\n' never occurs inside a multi-byte UTF-8 sequence, so cutting
 * after it never splits a character. Range reads are bounded (`chunkBytes`), so memory stays
 * bounded whatever the split or line length. Gzip blobs are not splittable: they are read
 * whole and decompressed as a stream.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { StratusError } from '../contract/errors.js';
import type { SourceSplitStart } from '../engine/records/record-formats.js';
import { BlobNotFoundError, type BlobStore } from './blob-store.js';

/** Default size of one range read (bytes). */
export const DEFAULT_READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** The first read past a split's end is this small: the last record usually ends soon after. */
const FIRST_PROBE_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * A byte range of a blob to read records from. The driver's InputSplit and the stage
 * descriptor's split both have this shape (extra fields are ignored here).
 */
export interface BlobSplit {
  readonly container: string;
  readonly blob: string;
  /** First byte of the range; records starting at or after it (and before `end`) are the split's. */
  readonly start: number;
  /** End of the range (exclusive); undefined means the end of the blob. */
  readonly end?: number | undefined;
  /** The blob's size when known (saves one request); read from the blob otherwise. */
  readonly fileSize?: number | undefined;
  /** A gzip blob is read whole (start must be 0) and decompressed. */
  readonly gzip?: boolean | undefined;
}

/** Where a split came from, for error messages and the CSV header rule (see SourceSplitStart). */
export interface SplitOrigin {
  /** The file the user named: a local path, or the blob's az:// address. */
  readonly source?: string | undefined;
  /** Byte offset of the split's first byte in that file (differs from `start` for uploaded local partitions). */
  readonly sourceOffset?: number | undefined;
  /** The file's 1-based line number of the split's first line, when the driver counted it (local files). */
  readonly sourceLine?: number | undefined;
  /** CSV column names the driver read from the source's header. */
  readonly columns?: readonly string[] | undefined;
}

/** Options of readSplit. */
export interface ReadSplitOptions {
  /** Largest single range read (bytes); default 4 MiB. */
  chunkBytes?: number;
  /** Called once, before the first chunk, with the blob offset of the split's first record. */
  onRecordsStart?: (offset: number) => void;
}

/** `az://container/blob`: how a blob is named to users. */
export function blobAddress(container: string, blob: string): string {
  return `az://${container}/${blob}`;
}

async function readRange(blobs: BlobStore, split: BlobSplit, offset: number, count: number): Promise<Buffer> {
  try {
    return await blobs.getRange(split.container, split.blob, offset, count);
  } catch (error) {
    if (error instanceof BlobNotFoundError) {
      throw new StratusError(
        'INPUT_MISSING',
        `input ${blobAddress(split.container, split.blob)} does not exist (was it deleted after the job started?)`,
        { blob: `${split.container}/${split.blob}` },
      );
    }
    throw error;
  }
}

async function* wholeBlobChunks(blobs: BlobStore, split: BlobSplit, size: number, chunkBytes: number) {
  for (let at = 0; at < size; at += chunkBytes)
    yield await readRange(blobs, split, at, Math.min(chunkBytes, size - at));
}

async function sizeOf(blobs: BlobStore, split: BlobSplit): Promise<number> {
  if (split.fileSize !== undefined) return split.fileSize;
  const size = await blobs.size(split.container, split.blob);
  if (size === undefined) {
    throw new StratusError(
      'INPUT_MISSING',
      `input ${blobAddress(split.container, split.blob)} does not exist`,
      {
        blob: `${split.container}/${split.blob}`,
      },
    );
  }
  return size;
}

/**
 * The bytes of the records that start in [split.start, split.end), in order, in chunks of at
 * most `chunkBytes` (plus the tail of the last record). Yields nothing for an empty blob, or
 * for a split that no record starts in (inside one long line).
 */
export async function* readSplit(
  blobs: BlobStore,
  split: BlobSplit,
  options: ReadSplitOptions = {},
): AsyncGenerator<Buffer> {
  const chunkBytes = Math.max(1, options.chunkBytes ?? DEFAULT_READ_CHUNK_BYTES);
  const size = await sizeOf(blobs, split);
  if (split.gzip) {
    if (split.start !== 0) throw new Error(`internal: gzip split of ${split.blob} must start at 0`);
    if (size === 0) return;
    options.onRecordsStart?.(0);
    const gunzip = Readable.from(wholeBlobChunks(blobs, split, size, chunkBytes)).pipe(createGunzip());
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (error) {
      if (error instanceof StratusError) throw error;
      throw new StratusError(
        'BAD_INPUT_FILE',
        `input ${blobAddress(split.container, split.blob)} is not valid gzip: ${(error as Error).message}`,
        { blob: `${split.container}/${split.blob}` },
      );
    }
    return;
  }
  const end = Math.min(split.end ?? size, size);
  if (split.start >= end) return;

  // 1. Find the first record start: 0, or just after the first '\n' at or after start-1.
  let pos = split.start;
  let pending: Buffer | undefined; // bytes already read from `pos` on
  if (split.start > 0) {
    let at = split.start - 1;
    let want = Math.min(chunkBytes, end - at);
    for (;;) {
      if (at >= size) return; // no '\n' before the end of the blob: no record starts here
      const chunk = await readRange(blobs, split, at, Math.min(want, size - at));
      const i = chunk.indexOf(NEWLINE);
      if (i >= 0) {
        pos = at + i + 1;
        pending = chunk.subarray(i + 1);
        break;
      }
      at += chunk.length;
      if (at >= end) want = Math.min(chunkBytes, want * 2);
      else want = Math.min(chunkBytes, end - at);
    }
    if (pos >= end) return; // the first record starting after start-1 starts at or after end
  }

  // 2. Yield [pos, end).
  options.onRecordsStart?.(pos);
  let at = pos;
  let last = -1; // the last byte yielded
  if (pending && pending.length > 0) {
    const take = pending.subarray(0, Math.min(pending.length, end - at));
    yield take;
    last = take[take.length - 1]!;
    at += take.length;
  }
  // One range read ahead: the next range downloads while the task computes on this one
  // (word-count profile: the task thread sat idle for every 4 MiB read).
  let aheadAt = at;
  const readAhead = () => {
    if (aheadAt >= end) return undefined;
    const count = Math.min(chunkBytes, end - aheadAt);
    const read = readRange(blobs, split, aheadAt, count).then((chunk) => ({ chunk, count }));
    read.catch(() => undefined); // awaited below; a failure while the consumer is busy must not go unhandled
    aheadAt += count;
    return read;
  };
  let ahead = readAhead();
  while (ahead) {
    const { chunk, count } = await ahead;
    if (chunk.length !== count) {
      throw new StratusError(
        'INPUT_CHANGED',
        `input ${blobAddress(split.container, split.blob)} returned ${chunk.length} of ${count} bytes at ${at} (was it changed after the job started?)`,
        { blob: `${split.container}/${split.blob}` },
      );
    }
    ahead = readAhead();
    yield chunk;
    last = chunk[chunk.length - 1]!;
    at += chunk.length;
  }

  // 3. Finish the last record: read on to the first '\n' (or the end of the blob).
  if (last === NEWLINE) return;
  let want = FIRST_PROBE_BYTES;
  while (at < size) {
    const chunk = await readRange(blobs, split, at, Math.min(want, chunkBytes, size - at));
    const i = chunk.indexOf(NEWLINE);
    if (i >= 0) {
      yield chunk.subarray(0, i + 1);
      return;
    }
    yield chunk;
    at += chunk.length;
    want *= 2;
  }
}

/**
 * The marker TaskIO.readSource yields before a split's bytes (see engine/records/record-formats.ts);
 * `recordsAt` is the blob offset where the split's first record starts, when it has one.
 */
export function splitStartOf(split: BlobSplit & SplitOrigin, recordsAt?: number): SourceSplitStart {
  const offset = split.sourceOffset ?? split.start;
  const firstLine = split.sourceLine ?? (offset === 0 ? 1 : undefined);
  const marker: SourceSplitStart = {
    kind: 'split-start',
    file: split.source ?? blobAddress(split.container, split.blob),
    offset,
    // The split's blob offsets map to the file's: local partitions are the file's bytes from sourceOffset on.
    ...(recordsAt !== undefined ? { recordsStart: offset + (recordsAt - split.start) } : {}),
    ...(firstLine !== undefined ? { firstLine } : {}),
  };
  return split.columns ? { ...marker, columns: split.columns } : marker;
}

/**
 * What an executor's TaskIO.readSource yields for one input partition: for each of its
 * splits in order, a SourceSplitStart marker and then the split's bytes. The marker waits
 * for the split's first read, which finds where its first record starts.
 */
export async function* readPartitionSplits(
  blobs: BlobStore,
  splits: readonly (BlobSplit & SplitOrigin)[],
  options: ReadSplitOptions = {},
): AsyncGenerator<SourceSplitStart | Buffer> {
  for (const split of splits) {
    let recordsAt: number | undefined;
    const chunks = readSplit(blobs, split, {
      ...options,
      onRecordsStart: (offset) => {
        recordsAt = offset;
      },
    });
    const first = await chunks.next();
    yield splitStartOf(split, recordsAt);
    if (first.done) continue;
    yield first.value;
    yield* chunks;
  }
}
