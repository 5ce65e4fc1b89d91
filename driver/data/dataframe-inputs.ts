/**
 * What the driver reads of a DataFrame's input files before planning: a local copy of the
 * first split of each scan, for the binder to take the schema from (a CSV header and sniffed
 * types, JSON Lines' fields). A local input is read where it lies; a blob input's first split is
 * downloaded up to 1 MiB, cut at its last line break. Parquet scans need no sample: their schema
 * was read from the footers when their splits were planned (parquet-inputs.ts). And the Hive
 * partition columns in the folder names above a scan's files.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PartitionDiscovery, ScanSampler } from '../../duckdb/binder.js';
import type { InputSplit } from '../../engine/plan/stage-descriptor.js';
import type { StructType } from '../../engine/sql/types.js';
import { discoverPartitions } from '../../engine/sql/write-spec.js';
import type { BlobStore } from '../../storage/blob-store.js';

const TEXT_SAMPLE_BYTES = 1024 * 1024;

/** A scan's sampler and Hive-partition discovery over one graph's input splits (by its node ids). */
export interface GraphSampler {
  sample: ScanSampler;
  partitions: PartitionDiscovery;
}

/**
 * The scan samplers of a run, and the cleanup of their downloads. `over` gives the sampler of
 * one graph of the run over that graph's listing; the graphs of one run (the first build, and its
 * rebuild with scan sizes, whose node ids differ) share the downloads: a split sampled for the
 * first graph is not downloaded again for the second.
 */
export function scanSampler(blobs: BlobStore | undefined): {
  over: (
    inputs: ReadonlyMap<number, readonly (readonly InputSplit[])[]>,
    /** Parquet scans' schemas, read from their footers (parquet-inputs.ts). */
    parquetSchemas: ReadonlyMap<number, StructType>,
  ) => GraphSampler;
  close: () => Promise<void>;
} {
  let dir: string | undefined;
  let downloads = 0;
  // By split and format: the local copy of it, once per run whatever graph asks.
  const sampled = new Map<string, Promise<string>>();
  const download = async (split: InputSplit, format: string): Promise<string> => {
    // Without storage (`stratus explain` of local inputs) every sample is a local file read in place.
    if (!blobs) throw new Error(`internal: sampling ${split.source ?? split.blob} needs a blob store`);
    dir ??= await mkdtemp(path.join(tmpdir(), 'stratus-schema-'));
    const file = path.join(dir, `sample-${downloads++}`);
    const start = split.start ?? 0;
    if (format === 'parquet') {
      await writeFile(
        file,
        await blobs.getRange(
          split.container,
          split.blob,
          start,
          split.end === undefined ? undefined : split.end - start,
        ),
      );
    } else {
      const length = Math.min(TEXT_SAMPLE_BYTES, (split.end ?? start + TEXT_SAMPLE_BYTES) - start);
      const bytes = await blobs.getRange(split.container, split.blob, start, length);
      const cut = length === TEXT_SAMPLE_BYTES ? bytes.lastIndexOf(10) + 1 : bytes.length;
      await writeFile(file, bytes.subarray(0, cut > 0 ? cut : bytes.length));
    }
    return file;
  };
  const over = (
    inputs: ReadonlyMap<number, readonly (readonly InputSplit[])[]>,
    parquetSchemas: ReadonlyMap<number, StructType>,
  ): GraphSampler => {
    const sample: ScanSampler = async (nodeId, input) => {
      const known = parquetSchemas.get(nodeId);
      if (known) return known;
      const split = inputs.get(nodeId)?.[0]?.[0];
      if (!split) return undefined;
      if (
        split.source !== undefined &&
        split.sourceOffset === 0 &&
        !split.source.includes('://') &&
        existsSync(split.source)
      ) {
        return split.source;
      }
      const key = JSON.stringify([
        input.format,
        split.container,
        split.blob,
        split.start ?? 0,
        split.end ?? null,
      ]);
      let file = sampled.get(key);
      if (!file) {
        file = download(split, input.format);
        sampled.set(key, file);
      }
      return file;
    };
    const partitions: PartitionDiscovery = (nodeId) => {
      const sources = (inputs.get(nodeId) ?? []).flatMap((splits) => splits.map((s) => s.source ?? s.blob));
      return discoverPartitions([...new Set(sources)]).columns;
    };
    return { sample, partitions };
  };
  return {
    over,
    close: async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
