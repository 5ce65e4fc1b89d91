/**
 * Splits local text files into input partitions on line boundaries and uploads each
 * partition as a blob, as Spark's textFile splits HDFS blocks: a line belongs to the
 * partition in which it starts, so no line is lost, cut or read twice. Gzip files are not
 * splittable: each is one partition, uploaded as is. Partition blobs are written by up to
 * `concurrency` uploads at once, with byte progress, each streamed from the file in staged
 * blocks (Put Block, then one Put Block List), so the driver holds a few blocks per upload
 * whatever the size of a split — a multi-GB gzip or multiLine CSV file is one split.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { StratusError } from '../../contract/errors.js';
import { DATA_CONTAINER, inputPartitionBlobName } from '../../contract/names.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { BlockBlobWriter, DEFAULT_BLOCK_BYTES } from '../../storage/block-writer.js';

/** Default target size of one input partition (bytes); Spark's default split is 128 MB. */
export const DEFAULT_SPLIT_BYTES = 32 * 1024 * 1024;

/**
 * A file's last split may be up to this much larger than the target rather than leave a
 * sliver of a split behind (Hadoop's SPLIT_SLOP), unless that would give fewer splits than
 * minPartitions.
 */
export const SPLIT_SLOP = 1.1;

/** One partition: a byte range [start, end) of a local file (a whole file when gzip). */
export interface FileSplit {
  file: string;
  start: number;
  end: number;
  /** A gzip file: not splittable, uploaded as is and decompressed by the executor. */
  gzip?: boolean;
}

/** True for names of gzip files (`.gz`), which are read whole. */
export function isGzipName(name: string): boolean {
  return /\.gz$/i.test(name);
}

/**
 * The target split size for `totalBytes` of splittable input: at most `splitBytes`, and
 * small enough that there are at least `minPartitions` splits (floor, so that
 * ceil(total / goal) >= minPartitions). At least 1 byte.
 */
export function splitGoal(totalBytes: number, minPartitions: number, splitBytes: number): number {
  return Math.max(1, Math.min(splitBytes, Math.floor(totalBytes / Math.max(1, minPartitions))));
}

/** A hidden file in Hadoop's sense (`_SUCCESS`, `.crc`…): skipped when a folder or prefix is listed. */
export function isHiddenName(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base.startsWith('_') || base.startsWith('.');
}

/**
 * A folder's files, hidden ones skipped, and those of its Hive partition folders (`col=value`,
 * at any depth, as Spark's partition discovery reads them); other sub-folders are not read.
 */
async function folderFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (isHiddenName(e.name)) continue;
    if (e.isFile()) files.push(path.join(dir, e.name));
    else if (e.isDirectory() && e.name.indexOf('=') > 0)
      files.push(...(await folderFiles(path.join(dir, e.name))));
  }
  return files;
}

/**
 * Files matching a path, folder or glob, sorted by name; throws INPUT_NOT_FOUND naming the
 * pattern when nothing matches. A folder means its files (hidden ones skipped) and those of its
 * `col=value` partition folders.
 */
export async function resolveInputFiles(pattern: string, cwd = process.cwd()): Promise<string[]> {
  let files: string[];
  if (/[*?[{]/.test(pattern)) {
    files = (await glob(pattern, { cwd, absolute: true, onlyFiles: true })).sort();
  } else {
    const target = path.resolve(cwd, pattern);
    const info = await stat(target).catch(() => undefined);
    files = info?.isDirectory() ? (await folderFiles(target)).sort() : [target];
  }
  const existing: string[] = [];
  for (const file of files) {
    try {
      if ((await stat(file)).isFile()) existing.push(file);
    } catch {
      // Reported below when nothing at all matches.
    }
  }
  if (existing.length === 0) {
    throw new StratusError('INPUT_NOT_FOUND', `no input file matches ${pattern} (from ${cwd})`);
  }
  return existing;
}

/** The offset just after the first '\n' at or after `from`, or `size` when there is none. */
async function nextLineStart(
  handle: Awaited<ReturnType<typeof open>>,
  from: number,
  size: number,
): Promise<number> {
  const buffer = Buffer.allocUnsafe(64 * 1024);
  let position = from;
  while (position < size) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    const index = buffer.subarray(0, bytesRead).indexOf(10);
    if (index >= 0) return position + index + 1;
    position += bytesRead;
  }
  return size;
}

/**
 * Cut files into splits of about `targetBytes` (see splitGoal), each ending just after a
 * newline, so no line is cut; gzip files (all files with `wholeFiles`) are one split each.
 * Empty files give no split.
 * There are at least `minPartitions` splits when the files have enough lines.
 */
export async function planFileSplits(
  files: string[],
  minPartitions: number,
  targetBytes: number,
  /** Never split a file (CSV multiLine: records may span lines). */
  wholeFiles = false,
): Promise<FileSplit[]> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const total = files.reduce((sum, f, i) => (isGzipName(f) ? sum : sum + sizes[i]!), 0);
  const goal = splitGoal(total, minPartitions, targetBytes);
  const plan = async (slop: number): Promise<FileSplit[]> => {
    const splits: FileSplit[] = [];
    for (const [i, file] of files.entries()) {
      const size = sizes[i]!;
      if (size === 0) continue;
      if (isGzipName(file) || wholeFiles) {
        splits.push({ file, start: 0, end: size, gzip: isGzipName(file) });
        continue;
      }
      const handle = await open(file, 'r');
      try {
        let start = 0;
        while (start < size) {
          // A line starting before start+goal belongs here; the split ends after that line.
          const end =
            size - start <= goal * slop ? size : await nextLineStart(handle, start + goal - 1, size);
          splits.push({ file, start, end });
          start = end;
        }
      } finally {
        await handle.close();
      }
    }
    return splits;
  };
  const splits = await plan(SPLIT_SLOP);
  return splits.length >= minPartitions ? splits : plan(1);
}

/** Progress of an input upload, reported as bytes are read and after each partition blob is committed. */
export interface UploadProgress {
  bytesUploaded: number;
  totalBytes: number;
  partitionsUploaded: number;
  totalPartitions: number;
}

/** The partition blobs of uploaded splits, in partition order. */
export interface UploadedSplits {
  names: string[];
  /**
   * The file's 1-based line number of each split's first line, counted from the bytes read for
   * the upload (a split of a file is cut after a '\n', so its lines follow the earlier splits').
   * Gzip splits begin their file: line 1.
   */
  firstLines: number[];
}

/** How `uploadSplits` writes. */
export interface UploadSplitsOptions {
  /** Splits uploaded at once (default 4). */
  concurrency?: number;
  /** Size of a staged block (default DEFAULT_BLOCK_BYTES, 8 MiB); the driver holds ~3 per upload. */
  blockBytes?: number;
  onProgress?: (progress: UploadProgress) => void;
}

/** Count '\n' bytes (~1 GB/s with indexOf: cheap next to uploading the same bytes). */
function countNewlines(buffer: Buffer): number {
  let n = 0;
  for (let at = buffer.indexOf(10); at >= 0; at = buffer.indexOf(10, at + 1)) n++;
  return n;
}

/** Read chunks of a file's byte range [start, end), of at most `chunkBytes` each. */
function readRange(file: string, start: number, end: number, chunkBytes: number): AsyncIterable<Buffer> {
  // createReadStream's `end` is inclusive.
  return createReadStream(file, { start, end: end - 1, highWaterMark: chunkBytes });
}

/**
 * Upload each split as one blob of the application, streamed in staged blocks and committed
 * in one request; returns blob names and first line numbers. Memory per upload is bounded by
 * the block writer (one block buffered, two being staged), not by the split's size.
 */
export async function uploadSplits(
  blobs: BlobStore,
  appId: string,
  nodeId: number,
  splits: FileSplit[],
  options: UploadSplitsOptions = {},
): Promise<UploadedSplits> {
  const names = splits.map((_, p) => inputPartitionBlobName(appId, nodeId, p));
  const newlines = splits.map(() => 0);
  const totalBytes = splits.reduce((sum, s) => sum + (s.end - s.start), 0);
  const totalPartitions = splits.length;
  let next = 0;
  let done = 0;
  let bytesUploaded = 0;
  const report = () =>
    options.onProgress?.({ bytesUploaded, totalBytes, partitionsUploaded: done, totalPartitions });
  const uploadOne = async (): Promise<void> => {
    while (next < splits.length) {
      const p = next++;
      const split = splits[p]!;
      const writer = new BlockBlobWriter(blobs, DATA_CONTAINER, names[p]!, {
        commit: true,
        ...(options.blockBytes !== undefined ? { blockBytes: options.blockBytes } : {}),
      });
      let read = 0;
      // Chunks no larger than a block, so a block is never much larger than asked for.
      const chunkBytes = Math.min(1024 * 1024, options.blockBytes ?? DEFAULT_BLOCK_BYTES);
      for await (const chunk of readRange(split.file, split.start, split.end, chunkBytes)) {
        if (!split.gzip) newlines[p]! += countNewlines(chunk);
        read += chunk.length;
        await writer.write(chunk);
        bytesUploaded += chunk.length;
        report();
      }
      if (read !== split.end - split.start) {
        throw new Error(`${split.file} shrank while it was being uploaded`);
      }
      await writer.finish();
      done++;
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, splits.length) }, uploadOne));
  const firstLines = splits.map(() => 1);
  for (let p = 1; p < splits.length; p++) {
    if (splits[p]!.file === splits[p - 1]!.file) firstLines[p] = firstLines[p - 1]! + newlines[p - 1]!;
  }
  return { names, firstLines };
}
