/**
 * The inputs of one `driver.run`: every file source of its graph cut into partition splits
 * (local files copied into per-run partition blobs, blob inputs split in place; whole-file
 * sources packed whole, whole-file-inputs.ts), and the
 * progress lines of large uploads.
 */
import type { JobGraph } from '../../engine/plan/graph.js';
import type { InputSplit } from '../../engine/plan/stage-descriptor.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { resolveSourceInput } from './input-sources.js';
import type { UploadProgress } from './input-splitter.js';
import { type ParquetScanPlan, resolveParquetInput } from './parquet-inputs.js';
import { resolveWholeFileInput } from './whole-file-inputs.js';

/** A run's file sources as its RunState holds them: node id → partition → splits, and partition counts. */
export interface RunInputs {
  inputs: Map<number, InputSplit[][]>;
  sourcePartitions: Map<number, number>;
  /** DataFrame Parquet scans by node id: their schema and what the footers and statistics gave. */
  parquetScans: Map<number, ParquetScanPlan>;
}

/** Where and how a run's inputs are prepared. */
export interface RunInputOptions {
  blobs: BlobStore;
  /** The storage account's name, when its blob service reports one. */
  accountName?: string;
  /** Target size of an input partition cut from local files (bytes); the splitter's default otherwise. */
  splitBytes?: number;
  /** Size of the blocks local input partitions are streamed to storage in (bytes); the splitter's default otherwise. */
  blockBytes?: number;
  /** `<appId>/run-<n>`: input blobs are per run, as two runs may read different files under one node id. */
  scope: string;
  progress: UploadProgressLog;
  /** Only these source nodes (default: every source of the graph). */
  nodes?: ReadonlySet<number>;
}

/** Cut every file source of `graph` into partition splits; returns the splits and partition counts. */
export async function prepareRunInputs(graph: JobGraph, options: RunInputOptions): Promise<RunInputs> {
  const inputs = new Map<number, InputSplit[][]>();
  const sourcePartitions = new Map<number, number>();
  const parquetScans = new Map<number, ParquetScanPlan>();
  for (const source of graph.sources()) {
    if (options.nodes && !options.nodes.has(source.nodeId)) continue;
    const resolveOptions = {
      blobs: options.blobs,
      ...(options.accountName !== undefined ? { accountName: options.accountName } : {}),
      ...(options.splitBytes !== undefined ? { splitBytes: options.splitBytes } : {}),
      upload: {
        scope: options.scope,
        nodeId: source.nodeId,
        ...(options.blockBytes !== undefined ? { blockBytes: options.blockBytes } : {}),
        onProgress: (p: UploadProgress) => options.progress.report(source.uri, p),
      },
    };
    let parts: InputSplit[][];
    if (source.kind === 'parquet') {
      // A DataFrame's Parquet scan: split by row groups from the footers, statistics applied.
      const impl = graph.node(source.nodeId).impl;
      const resolved = await resolveParquetInput(
        source,
        impl.type === 'relational' ? impl.fragment : undefined,
        resolveOptions,
      );
      parts = resolved.partitions;
      parquetScans.set(source.nodeId, resolved.plan);
    } else {
      // Whole-file sources (wholeTextFiles, binaryFiles) pack whole files; line sources split them.
      const resolve = source.wholeFiles ? resolveWholeFileInput : resolveSourceInput;
      parts = (await resolve(source, resolveOptions)) as unknown as InputSplit[][];
    }
    inputs.set(source.nodeId, parts);
    sourcePartitions.set(source.nodeId, parts.length);
  }
  return { inputs, sourcePartitions, parquetScans };
}

/**
 * The driver's status lines for input uploads: uploads above 8 MiB report progress every ~10 %
 * (local files are copied into partition blobs). One per driver: what was shown is kept by URI.
 */
export class UploadProgressLog {
  private readonly shown = new Map<string, number>();

  constructor(private readonly log: (line: string) => void) {}

  /** Say how far the upload of `uri` has come, when it crossed another tenth. */
  report(uri: string, p: UploadProgress): void {
    if (p.totalBytes < 8 * 1024 * 1024) return;
    const step = Math.floor((10 * p.bytesUploaded) / p.totalBytes);
    if ((this.shown.get(uri) ?? -1) >= step && p.bytesUploaded < p.totalBytes) return;
    this.shown.set(uri, step);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    this.log(
      `input ${uri}: ${p.partitionsUploaded}/${p.totalPartitions} partitions uploaded (${mb(p.bytesUploaded)}/${mb(p.totalBytes)} MiB)`,
    );
  }
}
