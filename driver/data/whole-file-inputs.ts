/**
 * Inputs of the whole-file sources (`wholeTextFiles`, `binaryFiles`): the files a path, folder,
 * glob or `az://container/prefix` names — the same matching as the line sources — packed whole
 * into partitions (engine/plan/whole-file-partitions.ts, Spark's CombineFileInputFormat rule).
 * A partition is a list of splits, one per file, each the whole file: blob inputs are read in
 * place; local files are uploaded one blob each, as the line sources upload their splits
 * (empty files are not: a split of size 0 is never read). The engine gathers each split's
 * bytes into one `[path, content]` record (engine/records/whole-files.ts); `path` is the local
 * file's absolute path or the blob's `az://` address.
 */
import { stat } from 'node:fs/promises';
import { ConfigError } from '../../contract/errors.js';
import { DATA_CONTAINER, inputPartitionBlobName } from '../../contract/names.js';
import type { SourceNodeInfo } from '../../engine/plan/source-node.js';
import {
  DEFAULT_WHOLE_FILE_PARTITION_BYTES,
  packWholeFiles,
} from '../../engine/plan/whole-file-partitions.js';
import { blobAddress } from '../../storage/split-reader.js';
import {
  type InputSplit,
  localInputPath,
  matchBlobs,
  parseBlobLocation,
  type ResolveInputOptions,
} from './input-sources.js';
import { type FileSplit, isGzipName, resolveInputFiles, uploadSplits } from './input-splitter.js';

/** One file of a whole-file source, before upload. */
export interface WholeFile {
  /** What its record names: the local absolute path or the blob's az:// address. */
  source: string;
  size: number;
  /** Where it is read from when it is a blob already. */
  blob?: { container: string; name: string };
}

/** The files a whole-file source names, sorted by name; throws INPUT_NOT_FOUND when none match. */
export async function listWholeFiles(
  uri: string,
  options: Partial<Pick<ResolveInputOptions, 'blobs' | 'accountName' | 'cwd'>>,
): Promise<WholeFile[]> {
  const location = parseBlobLocation(uri);
  if (location) {
    if (!options.blobs) throw new Error(`internal: listing ${uri} needs a blob store`);
    if (location.account && options.accountName && location.account !== options.accountName) {
      throw new ConfigError(
        `${uri} is in storage account ${location.account}, but stratus is connected to ${options.accountName}`,
      );
    }
    const matched = await matchBlobs(options.blobs, location, uri);
    return matched.map((b) => ({
      source: blobAddress(location.container, b.name),
      size: b.size,
      blob: { container: location.container, name: b.name },
    }));
  }
  const files = await resolveInputFiles(localInputPath(uri), options.cwd);
  return Promise.all(files.map(async (file) => ({ source: file, size: (await stat(file)).size })));
}

/** The partitions of `files` (lists of file indexes) for a source's minPartitions and a byte bound. */
export function wholeFilePartitions(
  files: readonly WholeFile[],
  minPartitions: number,
  maxPartitionBytes = DEFAULT_WHOLE_FILE_PARTITION_BYTES,
): number[][] {
  return packWholeFiles(
    files.map((f) => f.size),
    minPartitions,
    maxPartitionBytes,
  );
}

/**
 * Resolve a whole-file source into partitions of splits (the stage descriptor's
 * `inputs[nodeId]`): one whole-file split per file. `splitBytes` bounds a partition's bytes.
 */
export async function resolveWholeFileInput(
  source: SourceNodeInfo,
  options: Omit<ResolveInputOptions, 'minPartitions'>,
): Promise<InputSplit[][]> {
  const binary = source.wholeFiles?.binary === true;
  const files = await listWholeFiles(source.uri, options);
  const partitions = wholeFilePartitions(files, source.minPartitions, options.splitBytes);
  const located = await locate(files, options);
  return partitions.map((part) =>
    part.map((i): InputSplit => {
      const file = files[i]!;
      return {
        kind: 'blob',
        ...located[i]!,
        start: 0,
        end: file.size,
        fileSize: file.size,
        // wholeTextFiles reads a .gz decompressed (as textFile does); binaryFiles gives the bytes as stored.
        gzip: !binary && file.size > 0 && isGzipName(file.source),
        source: file.source,
        sourceOffset: 0,
      };
    }),
  );
}

/** Where each file is read from: the blob itself, or the blob a local file is uploaded to. */
async function locate(
  files: readonly WholeFile[],
  options: Omit<ResolveInputOptions, 'minPartitions'>,
): Promise<{ container: string; blob: string }[]> {
  const local = files.map((f, i) => ({ f, i })).filter(({ f }) => f.blob === undefined);
  const out = files.map((f) => (f.blob ? { container: f.blob.container, blob: f.blob.name } : undefined));
  if (local.length === 0) return out as { container: string; blob: string }[];
  const { upload } = options;
  if (!upload) throw new Error('internal: resolving local whole files needs upload options');
  // Empty files are not uploaded: a split of size 0 is never read, only named.
  const toUpload = local.filter(({ f }) => f.size > 0);
  const splits: FileSplit[] = toUpload.map(({ f }) => ({ file: f.source, start: 0, end: f.size }));
  const { names } = await uploadSplits(options.blobs, upload.scope, upload.nodeId, splits, {
    ...(upload.concurrency !== undefined ? { concurrency: upload.concurrency } : {}),
    ...(upload.blockBytes !== undefined ? { blockBytes: upload.blockBytes } : {}),
    ...(upload.onProgress !== undefined ? { onProgress: upload.onProgress } : {}),
  });
  toUpload.forEach(({ i }, k) => {
    out[i] = { container: DATA_CONTAINER, blob: names[k]! };
  });
  let empty = toUpload.length;
  for (const { f, i } of local) {
    if (f.size === 0)
      out[i] = {
        container: DATA_CONTAINER,
        blob: inputPartitionBlobName(upload.scope, upload.nodeId, empty++),
      };
  }
  return out as { container: string; blob: string }[];
}
