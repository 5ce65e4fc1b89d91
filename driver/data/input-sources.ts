/**
 * Resolves a file source's path into input splits — Spark's FileInputFormat.getSplits. Blob
 * inputs (`az://<container>/<prefix-or-glob>`, full blob URLs, Azurite path-style URLs) are
 * cut into byte ranges without copying: a record straddling two ranges belongs to the one it
 * starts in (storage/split-reader.ts reads it so). Local files are cut on line boundaries
 * and uploaded as partition blobs (input-splitter.ts). Gzip files are one split each.
 * Every split is one partition, as in Spark's textFile; empty files give none.
 */
import { fileURLToPath } from 'node:url';
import { ConfigError, StratusError } from '../../contract/errors.js';
import { DATA_CONTAINER } from '../../contract/names.js';
import type { SourceNodeInfo } from '../../engine/plan/source-node.js';
import { csvHeaderIndex, parseCsvHeader } from '../../engine/records/csv.js';
import { lineBatches } from '../../engine/records/record-formats.js';
import type { BlobStore } from '../../storage/blob-store.js';
import {
  type BlobSplit,
  blobAddress,
  readPartitionSplits,
  type SplitOrigin,
} from '../../storage/split-reader.js';
import {
  DEFAULT_SPLIT_BYTES,
  type FileSplit,
  isGzipName,
  isHiddenName,
  planFileSplits,
  resolveInputFiles,
  SPLIT_SLOP,
  splitGoal,
  type UploadProgress,
  uploadSplits,
} from './input-splitter.js';

/**
 * One input split, i.e. one partition of a file source: a byte range of a blob (the whole
 * blob when gzip). `source`/`sourceOffset` name the file the user gave and where the range
 * starts in it (for local files the blob is an uploaded partition, so they differ from
 * container/blob/start); `columns` carries a CSV header read by the driver.
 */
export interface InputSplit extends BlobSplit, SplitOrigin {
  readonly kind: 'blob';
  readonly container: string;
  readonly blob: string;
  readonly start: number;
  readonly end: number;
  readonly fileSize: number;
  readonly gzip: boolean;
  readonly source: string;
  readonly sourceOffset: number;
  /** The file's line number of the split's first line: counted by the driver for local files only. */
  readonly sourceLine?: number;
}

/** Options of resolveInput. */
export interface ResolveInputOptions {
  /** At least this many splits when the input is large enough (a hint, as in Spark). */
  minPartitions: number;
  /** Target split size in bytes (default DEFAULT_SPLIT_BYTES, 32 MiB). */
  splitBytes?: number;
  blobs: BlobStore;
  /** The connected storage account: a full blob URL naming another account is refused. */
  accountName?: string;
  /** Local inputs only: where their partition blobs go. Required when the path is local. */
  upload?: {
    /** `<appId>/run-<n>`: names the partition blobs (see inputPartitionBlobName). */
    scope: string;
    nodeId: number;
    /** Parallel uploads (default 4). */
    concurrency?: number;
    /** Size of a staged block of an upload (default 8 MiB): the driver holds a few per upload. */
    blockBytes?: number;
    onProgress?: (progress: UploadProgress) => void;
  };
  /** Folder relative local paths are resolved from (default: the process's). */
  cwd?: string;
  /** One split per file, never a byte range (CSV multiLine, where records may span lines). */
  wholeFiles?: boolean;
}

/** A parsed blob address: the container and the blob name, prefix or glob inside it. */
export interface BlobLocation {
  container: string;
  pattern: string;
  /** The account a full URL names (undefined for az://). */
  account?: string;
}

/**
 * Parse `az://container/path`, `https://<account>.blob.core.windows.net/<container>/<path>`
 * or a path-style `http://127.0.0.1:<port>/<account>/<container>/<path>` (Azurite); undefined
 * for anything else, which is a local path.
 */
export function parseBlobLocation(uri: string): BlobLocation | undefined {
  const az = /^az:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (az) return { container: az[1]!, pattern: az[2]! };
  if (!/^https?:\/\//i.test(uri)) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ConfigError(`${uri} is not a valid URL`);
  }
  // Split the raw path, not url.pathname: URL parsing escapes glob characters and takes `?`
  // for a query. A real query (`?sv=…&sig=…`, a SAS) is dropped: stratus reads with its own
  // connection.
  const slash = uri.indexOf('/', uri.indexOf('//') + 2);
  const rawPath =
    slash < 0
      ? ''
      : uri
          .slice(slash)
          .replace(/\?[^/]*=.*$/, '')
          .replace(/#.*$/, '');
  const segments = rawPath
    .split('/')
    .slice(1)
    .map((s) => decodeURIComponent(s));
  const host = url.hostname;
  const pathStyle = host === 'localhost' || /^[\d.]+$/.test(host) || host.startsWith('[');
  const account = pathStyle ? segments.shift() : host.split('.')[0];
  const container = segments.shift();
  if (!account || !container) throw new ConfigError(`${uri}: a blob URL needs an account and a container`);
  return { container, pattern: segments.join('/'), account };
}

const GLOB_CHARS = /[*?[{]/;

/** A regular expression for a blob-name glob: `*` and `?` stay within a `/` segment, `**` crosses them, `[…]` and `{a,b}` as usual. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          out += '(?:.*/)?';
        } else out += '.*';
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '{') {
      const close = glob.indexOf('}', i);
      if (close < 0) out += '\\{';
      else {
        const alternatives = glob.slice(i + 1, close).split(',');
        out += `(?:${alternatives.map((a) => globToRegExp(a).source.slice(1, -1)).join('|')})`;
        i = close;
      }
    } else out += c.replace(/[.+^$()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

async function listBlobs(blobs: BlobStore, container: string, prefix: string, uri: string) {
  try {
    return await blobs.list(container, prefix);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      throw new StratusError(
        'INPUT_NOT_FOUND',
        `no input matches ${uri}: container ${container} does not exist`,
      );
    }
    throw error;
  }
}

/** The blobs a location names, in name order: one blob, or a prefix ("folder"), or a glob. Hidden blobs are skipped in listings. */
export async function matchBlobs(
  blobs: BlobStore,
  location: BlobLocation,
  uri: string,
): Promise<{ name: string; size: number }[]> {
  const { container, pattern } = location;
  let matched: { name: string; size: number }[];
  if (GLOB_CHARS.test(pattern)) {
    const literal = pattern.slice(0, pattern.search(GLOB_CHARS));
    const re = globToRegExp(pattern);
    matched = (await listBlobs(blobs, container, literal, uri)).filter(
      (b) => re.test(b.name) && !isHiddenName(b.name),
    );
  } else {
    const size =
      pattern.length > 0 && !pattern.endsWith('/') ? await blobs.size(container, pattern) : undefined;
    if (size !== undefined) matched = [{ name: pattern, size }];
    else {
      const prefix = pattern.length === 0 || pattern.endsWith('/') ? pattern : `${pattern}/`;
      matched = (await listBlobs(blobs, container, prefix, uri)).filter(
        (b) => !isHiddenName(b.name) && !b.name.endsWith('/'),
      );
    }
  }
  if (matched.length === 0) throw new StratusError('INPUT_NOT_FOUND', `no input matches ${uri}`);
  return matched.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A file to split: its size and whether it is gzip. */
export interface SizedFile {
  readonly size: number;
  readonly gzip: boolean;
}

/**
 * Byte ranges of files, per file in order: about `splitBytes` each (see splitGoal and
 * SPLIT_SLOP), at least `minPartitions` in all when there are that many bytes; gzip files
 * whole; empty files none. Pure: the same rule the docs' worked example follows.
 */
export function planByteSplits(
  files: readonly SizedFile[],
  minPartitions: number,
  splitBytes: number,
  wholeFiles = false,
): { file: number; start: number; end: number }[] {
  const total = files.reduce((sum, f) => (f.gzip ? sum : sum + f.size), 0);
  const goal = splitGoal(total, minPartitions, splitBytes);
  const plan = (slop: number) => {
    const out: { file: number; start: number; end: number }[] = [];
    for (const [i, f] of files.entries()) {
      if (f.size === 0) continue;
      if (f.gzip || wholeFiles) {
        out.push({ file: i, start: 0, end: f.size });
        continue;
      }
      let start = 0;
      while (f.size - start > goal * slop) {
        out.push({ file: i, start, end: start + goal });
        start += goal;
      }
      out.push({ file: i, start, end: f.size });
    }
    return out;
  };
  const splits = plan(SPLIT_SLOP);
  return splits.length >= minPartitions ? splits : plan(1);
}

async function resolveBlobInput(
  location: BlobLocation,
  uri: string,
  options: ResolveInputOptions,
): Promise<InputSplit[]> {
  if (location.account && options.accountName && location.account !== options.accountName) {
    throw new ConfigError(
      `${uri} is in storage account ${location.account}, but stratus is connected to ${options.accountName}`,
    );
  }
  const matched = await matchBlobs(options.blobs, location, uri);
  const files = matched.map((b) => ({ size: b.size, gzip: isGzipName(b.name) }));
  const splitBytes = options.splitBytes ?? DEFAULT_SPLIT_BYTES;
  return planByteSplits(files, options.minPartitions, splitBytes, options.wholeFiles).map((r) => {
    const blob = matched[r.file]!;
    return {
      kind: 'blob',
      container: location.container,
      blob: blob.name,
      start: r.start,
      end: r.end,
      fileSize: blob.size,
      gzip: files[r.file]!.gzip,
      source: blobAddress(location.container, blob.name),
      sourceOffset: r.start,
    };
  });
}

/**
 * The local path a `file://` URL names, percent-decoded (`file:///my%20data/a.txt` →
 * `/my data/a.txt`); any other input is a path already. A raw `?` or `#` stays in the path
 * (a glob character, or part of a name) rather than starting a query or a fragment, which a
 * local input cannot have. Throws ConfigError for a URL naming another host.
 */
export function localInputPath(uri: string): string {
  if (!uri.startsWith('file:')) return uri;
  try {
    return fileURLToPath(uri.replace(/[?#]/g, encodeURIComponent));
  } catch (error) {
    throw new ConfigError(`${uri} is not a local file URL: ${(error as Error).message}`);
  }
}

/** The splits of a local input as resolveInput cuts them (nothing is read but their sizes and line breaks). */
function planLocalSplits(uri: string, options: Omit<ResolveInputOptions, 'blobs'>): Promise<FileSplit[]> {
  return resolveInputFiles(localInputPath(uri), options.cwd).then((files) =>
    planFileSplits(
      files,
      options.minPartitions,
      options.splitBytes ?? DEFAULT_SPLIT_BYTES,
      options.wholeFiles,
    ),
  );
}

async function resolveLocalInput(uri: string, options: ResolveInputOptions): Promise<InputSplit[]> {
  const { upload } = options;
  if (!upload) throw new Error(`internal: resolveInput of local ${uri} needs upload options`);
  const splits = await planLocalSplits(uri, options);
  const { names, firstLines } = await uploadSplits(options.blobs, upload.scope, upload.nodeId, splits, {
    ...(upload.concurrency !== undefined ? { concurrency: upload.concurrency } : {}),
    ...(upload.blockBytes !== undefined ? { blockBytes: upload.blockBytes } : {}),
    ...(upload.onProgress !== undefined ? { onProgress: upload.onProgress } : {}),
  });
  return splits.map((split, p) => ({
    ...localInputSplit(split, DATA_CONTAINER, names[p]!),
    sourceLine: firstLines[p]!,
  }));
}

/**
 * A local file split as the input split of a partition blob `blob` (both empty when nothing was
 * uploaded): its range relative to the partition, and where its bytes came from.
 */
function localInputSplit(split: FileSplit, container: string, blob: string): InputSplit {
  return {
    kind: 'blob',
    container,
    blob,
    start: 0,
    end: split.end - split.start,
    fileSize: split.end - split.start,
    gzip: split.gzip === true,
    source: split.file,
    sourceOffset: split.start,
  };
}

/**
 * The input splits of a path: blob inputs become byte ranges (no copy), local ones are
 * uploaded as partition blobs. Throws INPUT_NOT_FOUND naming the pattern when nothing
 * matches; an input of only empty files gives no split (an empty dataset).
 */
export async function resolveInput(uri: string, options: ResolveInputOptions): Promise<InputSplit[]> {
  const location = parseBlobLocation(uri);
  return location ? resolveBlobInput(location, uri, options) : resolveLocalInput(uri, options);
}

/**
 * The splits resolveInput would give `uri`, without copying anything (`stratus explain`): a blob
 * input's are the same byte ranges of its blobs; a local input's are cut by the same rule but not
 * uploaded, so each names no blob (container and blob empty) and is read from its file
 * (`source`, `sourceOffset`), its range relative to the partition as a run's uploaded one is.
 */
export async function listInputSplits(
  uri: string,
  options: Omit<ResolveInputOptions, 'upload' | 'blobs'> & { blobs?: BlobStore },
): Promise<InputSplit[]> {
  const location = parseBlobLocation(uri);
  if (location) {
    if (!options.blobs) throw new Error(`internal: listing ${uri} needs a blob store`);
    return resolveBlobInput(location, uri, { ...options, blobs: options.blobs });
  }
  const splits = await planLocalSplits(uri, options);
  return splits.map((split) => localInputSplit(split, '', ''));
}

/** Range reads of the driver's header search: a header is short, the split may be large. */
const HEADER_READ_BYTES = 64 * 1024;

/**
 * The CSV header line of the split that begins a file, read as an executor reads that split
 * (the same bytes, line splitting, BOM and '\r' rules) and chosen by csvHeaderIndex, the rule
 * the executors' CsvDecoder applies: so driver and executors agree on which line is the header.
 */
async function csvHeaderOfSplit(blobs: BlobStore, split: InputSplit): Promise<string | undefined> {
  const items = readPartitionSplits(blobs, [split], { chunkBytes: HEADER_READ_BYTES });
  for await (const batch of lineBatches(items, split.source, () => undefined)) {
    const at = csvHeaderIndex(batch.lines);
    if (at >= 0) return batch.lines[at];
  }
  return undefined;
}

/**
 * The CSV column names of a source with `header: true` and no `columns`, read once from the
 * header of its first file that has one (as Spark does); every file is assumed to share it.
 * The header must begin in a file's first split: only that split drops it, so a file whose
 * first split holds nothing but empty lines before its header is a CSV_BAD_HEADER naming it.
 */
export async function readCsvColumns(
  source: SourceNodeInfo,
  splits: readonly InputSplit[],
  blobs: BlobStore,
): Promise<string[] | undefined> {
  const csv = source.csv;
  if (!csv?.header || csv.columns) return undefined;
  for (const [i, first] of splits.entries()) {
    if (first.sourceOffset !== 0) continue;
    const line = await csvHeaderOfSplit(blobs, first);
    if (line !== undefined) return parseCsvHeader(line, csv, first.source);
    // Only empty lines in the first split: the header, if any, is in a later split of the file.
    for (const later of splits.slice(i + 1)) {
      if (later.source !== first.source) break;
      if ((await csvHeaderOfSplit(blobs, later)) !== undefined) {
        throw new StratusError(
          'CSV_BAD_HEADER',
          `csv header of ${first.source} is not in its first split (bytes 0–${first.end - first.start} hold only empty lines): remove the empty lines before the header, or use larger splits (splitBytes)`,
        );
      }
    }
  }
  return undefined;
}

/**
 * Resolve one file source of a job graph: its splits, one partition each, in the shape a
 * stage descriptor's `inputs[nodeId]` takes (partition → splits), with the CSV columns on
 * every split when the driver had to read them. A CSV source with multiLine gets whole files.
 */
export async function resolveSourceInput(
  source: SourceNodeInfo,
  options: Omit<ResolveInputOptions, 'minPartitions'>,
): Promise<InputSplit[][]> {
  const splits = await resolveInput(source.uri, {
    ...options,
    minPartitions: source.minPartitions,
    wholeFiles: source.csv?.multiLine === true || source.kind === 'parquet',
  });
  const columns = await readCsvColumns(source, splits, options.blobs);
  return splits.map((s) => [columns ? { ...s, columns } : s]);
}
