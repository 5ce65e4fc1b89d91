/**
 * Splits local text files into input partitions on line boundaries and uploads each
 * partition as a blob, as Spark's textFile splits HDFS blocks: a line belongs to the
 * partition in which it starts, so no line is lost, cut or read twice.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { StratusError } from '../engine/errors.js';
import { DATA_CONTAINER, inputPartitionBlobName } from '../engine/names.js';
import type { BlobStore } from '../storage/blob-store.js';

/** Default target size of one input partition (bytes); Spark's default split is 128 MB. */
export const DEFAULT_SPLIT_BYTES = 32 * 1024 * 1024;

/** One partition: a byte range [start, end) of a local file. */
export interface FileSplit {
  file: string;
  start: number;
  end: number;
}

/** Files matching a path or glob, sorted by name; throws when nothing matches. */
export async function resolveInputFiles(pattern: string, cwd = process.cwd()): Promise<string[]> {
  const files = /[*?[{]/.test(pattern)
    ? (await glob(pattern, { cwd, absolute: true, onlyFiles: true })).sort()
    : [path.resolve(cwd, pattern)];
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
 * Cut files into splits of about `targetBytes`, at least `minPartitions` in total, each
 * ending just after a newline. Empty files give no split; empty splits are dropped.
 */
export async function planFileSplits(
  files: string[],
  minPartitions: number,
  targetBytes: number,
): Promise<FileSplit[]> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  const goal = Math.max(1, Math.min(targetBytes, Math.ceil(total / Math.max(1, minPartitions))));
  const splits: FileSplit[] = [];
  for (const [i, file] of files.entries()) {
    const size = sizes[i]!;
    if (size === 0) continue;
    const handle = await open(file, 'r');
    try {
      let start = 0;
      while (start < size) {
        // A line starting before start+goal belongs here; the split ends after that line.
        const end = start + goal >= size ? size : await nextLineStart(handle, start + goal - 1, size);
        splits.push({ file, start, end });
        start = end;
      }
    } finally {
      await handle.close();
    }
  }
  return splits;
}

/** Upload each split as one blob of the application; returns blob names in partition order. */
export async function uploadSplits(
  blobs: BlobStore,
  appId: string,
  nodeId: number,
  splits: FileSplit[],
  concurrency = 4,
  onProgress?: (done: number, total: number) => void,
): Promise<string[]> {
  const names = splits.map((_, p) => inputPartitionBlobName(appId, nodeId, p));
  let next = 0;
  let done = 0;
  const uploadOne = async (): Promise<void> => {
    while (next < splits.length) {
      const p = next++;
      const split = splits[p]!;
      const handle = await open(split.file, 'r');
      try {
        const buffer = Buffer.allocUnsafe(split.end - split.start);
        await handle.read(buffer, 0, buffer.length, split.start);
        await blobs.put(DATA_CONTAINER, names[p]!, buffer);
      } finally {
        await handle.close();
      }
      onProgress?.(++done, splits.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, splits.length) }, uploadOne));
  return names;
}
