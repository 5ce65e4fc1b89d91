/**
 * MapOutputTracker: for each shuffle, the winning attempt of every map partition and the
 * sizes of its R segments — Spark's MapStatus table. Written once per shuffle as a blob
 * that reduce tasks read, so task messages stay small.
 */
import { DATA_CONTAINER, mapOutputTableBlobName } from '../../contract/names.js';
import { blobDigest } from '../../contract/signing.js';
import type { BlobPort } from './ports.js';

/** Where one map partition's output lives: its blob and the byte size of each reduce segment. */
export interface MapStatus {
  blob: string;
  segmentSizes: number[];
}

/** The table a reduce task reads: map partition → MapStatus (in map partition order). */
export interface MapOutputTable {
  shuffleId: number;
  numReducePartitions: number;
  outputs: MapStatus[];
}

/** A published map-output table: its blob and the sha256 of its bytes (pinned by the reading stage's descriptor). */
export interface PublishedTable {
  blob: string;
  sha256: string;
}

/** Tracks map outputs of the shuffles of one application. */
export class MapOutputTracker {
  private readonly shuffles = new Map<
    number,
    { numMaps: number; numReduce: number; outputs: (MapStatus | undefined)[] }
  >();
  private readonly tableBlobs = new Map<number, PublishedTable>();
  /** Times each shuffle's outputs were forgotten: names its next table blob. */
  private readonly generations = new Map<number, number>();

  constructor(
    /** `<appId>/run-<n>`: names the table blobs. */
    private readonly scope: string,
    private readonly blobs: BlobPort,
  ) {}

  /** Drop what is known of `shuffleId`'s map outputs (they are gone): its map stage runs again. */
  forget(shuffleId: number): void {
    this.shuffles.delete(shuffleId);
    this.tableBlobs.delete(shuffleId);
    this.generations.set(shuffleId, (this.generations.get(shuffleId) ?? 0) + 1);
  }

  /** Start tracking a shuffle with `numMaps` map partitions and `numReduce` reduce partitions. */
  register(shuffleId: number, numMaps: number, numReduce: number): void {
    if (!this.shuffles.has(shuffleId)) {
      this.shuffles.set(shuffleId, { numMaps, numReduce, outputs: new Array(numMaps).fill(undefined) });
    }
  }

  /** Record the winning attempt of a map partition; the first one recorded wins. */
  registerMapOutput(shuffleId: number, mapPartition: number, status: MapStatus): void {
    const shuffle = this.shuffles.get(shuffleId);
    if (!shuffle) throw new Error(`shuffle ${shuffleId} is not registered`);
    if (status.segmentSizes.length !== shuffle.numReduce) {
      throw new Error(
        `map ${mapPartition} of shuffle ${shuffleId} reported ${status.segmentSizes.length} segments, expected ${shuffle.numReduce}`,
      );
    }
    shuffle.outputs[mapPartition] ??= status;
  }

  /** True when every map partition of the shuffle has a winning output and the table is written. */
  isAvailable(shuffleId: number): boolean {
    return this.tableBlobs.has(shuffleId);
  }

  /** Write the table blob of a complete shuffle; returns its name and hash. */
  async publish(shuffleId: number): Promise<PublishedTable> {
    const existing = this.tableBlobs.get(shuffleId);
    if (existing) return existing;
    const shuffle = this.shuffles.get(shuffleId);
    if (!shuffle) throw new Error(`shuffle ${shuffleId} is not registered`);
    const missing = shuffle.outputs.indexOf(undefined);
    if (missing >= 0) throw new Error(`shuffle ${shuffleId} has no output for map partition ${missing}`);
    const table: MapOutputTable = {
      shuffleId,
      numReducePartitions: shuffle.numReduce,
      outputs: shuffle.outputs as MapStatus[],
    };
    const name = mapOutputTableBlobName(this.scope, shuffleId, this.generations.get(shuffleId));
    const text = JSON.stringify(table);
    await this.blobs.put(DATA_CONTAINER, name, text);
    const published = { blob: name, sha256: blobDigest(text) };
    this.tableBlobs.set(shuffleId, published);
    return published;
  }

  /** Total shuffle bytes written by the winning map outputs of a shuffle. */
  bytesWritten(shuffleId: number): number {
    const shuffle = this.shuffles.get(shuffleId);
    if (!shuffle) return 0;
    let total = 0;
    for (const o of shuffle.outputs) for (const s of o?.segmentSizes ?? []) total += s;
    return total;
  }
}
