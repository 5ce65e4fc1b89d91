/**
 * Partitioners decide which reduce partition a key goes to. They are described by plain
 * JSON (`PartitionerDesc`) because the description travels in stage descriptor blobs; an
 * executor rebuilds the partitioner from it with `createPartitioner`. A range partitioner's
 * bounds are keys, which may be bigints, Dates or bytes: the description holds them in tagged
 * JSON (tagged-json.ts), so they arrive exactly.
 *
 * - hash: partition = hashKey(key) mod n (hashKey is stable across processes and versions).
 * - range: `bounds` are sorted ascending (compareKeys) and strictly increasing; with
 *   ascending order a key goes to the first partition i whose bound `bounds[i] >= key`
 *   (the last partition when none), as Spark's RangePartitioner does; descending
 *   order mirrors it (partition = bounds.length - i). A range partitioner has
 *   bounds.length + 1 partitions.
 * - direct: the key is the reduce partition itself (an integer in [0, n)). The Dataset ⇄
 *   DataFrame bridge (engine/sql/bridge.ts) keys each record by its map partition, so every
 *   partition crosses the bridge whole and in place, as Spark's toDF / rdd keep partitions.
 */
import { ConfigError } from '../../contract/errors.js';
import { compareKeys, hashKey, type Key } from '../records/keys.js';
import { fromTaggedJson, type JsonValue, toTaggedJson } from '../records/tagged-json.js';

/** JSON description of a hash partitioner over `n` partitions. */
export interface HashPartitionerDesc {
  kind: 'hash';
  n: number;
}

/** JSON description of a range partitioner; `bounds` ascending (in tagged JSON), `bounds.length + 1` partitions. */
export interface RangePartitionerDesc {
  kind: 'range';
  /** The bounds, each in tagged JSON (rangePartitionerDesc writes them). */
  bounds: JsonValue[];
  ascending: boolean;
}

/** The description of a range partitioner over `bounds` (ascending keys). */
export function rangePartitionerDesc(bounds: readonly Key[], ascending: boolean): RangePartitionerDesc {
  return { kind: 'range', bounds: bounds.map(toTaggedJson), ascending };
}

/** JSON description of a direct partitioner over `n` partitions: the key is the partition. */
export interface DirectPartitionerDesc {
  kind: 'direct';
  n: number;
}

/** A JSON-serialisable partitioner description, stored in stage descriptors. */
export type PartitionerDesc = HashPartitionerDesc | RangePartitionerDesc | DirectPartitionerDesc;

/** A partitioner ready to use: maps a key to a partition in [0, numPartitions). */
export interface Partitioner {
  readonly desc: PartitionerDesc;
  readonly numPartitions: number;
  getPartition(key: unknown): number;
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`number of partitions must be a positive integer, got ${n}`);
}

/** Hash partitioner over `n` partitions. */
export class HashPartitioner implements Partitioner {
  readonly desc: HashPartitionerDesc;
  constructor(readonly numPartitions: number) {
    checkCount(numPartitions);
    this.desc = { kind: 'hash', n: numPartitions };
  }
  getPartition(key: unknown): number {
    return hashKey(key) % this.numPartitions;
  }
}

/** Range partitioner with sorted `bounds` (binary search per key). */
export class RangePartitioner implements Partitioner {
  readonly desc: RangePartitionerDesc;
  readonly numPartitions: number;
  constructor(
    readonly bounds: Key[],
    readonly ascending = true,
  ) {
    for (let i = 1; i < bounds.length; i++) {
      if (compareKeys(bounds[i - 1], bounds[i]) >= 0) {
        throw new ConfigError('range partitioner bounds must be strictly increasing');
      }
    }
    this.desc = rangePartitionerDesc(bounds, ascending);
    this.numPartitions = bounds.length + 1;
  }
  getPartition(key: unknown): number {
    const bounds = this.bounds;
    // First index whose bound is >= key.
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(bounds[mid], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (bounds.length === 0) compareKeys(key, key); // validates the key even with one partition
    return this.ascending ? lo : bounds.length - lo;
  }
}

/** The direct partitioner: a record keyed `p` goes to partition `p` (see the file comment). */
export class DirectPartitioner implements Partitioner {
  readonly desc: DirectPartitionerDesc;
  constructor(readonly numPartitions: number) {
    checkCount(numPartitions);
    this.desc = { kind: 'direct', n: numPartitions };
  }
  getPartition(key: unknown): number {
    if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key >= this.numPartitions)
      throw new Error(`internal: direct partitioner of ${this.numPartitions} got key ${String(key)}`);
    return key;
  }
}

/** Rebuild a partitioner from its JSON description. */
export function createPartitioner(desc: PartitionerDesc): Partitioner {
  if (desc.kind === 'hash') return new HashPartitioner(desc.n);
  if (desc.kind === 'direct') return new DirectPartitioner(desc.n);
  return new RangePartitioner(desc.bounds.map(fromTaggedJson) as Key[], desc.ascending);
}

/** Number of partitions a description yields. */
export function partitionCount(desc: PartitionerDesc): number {
  return desc.kind === 'range' ? desc.bounds.length + 1 : desc.n;
}

/** True when two descriptions partition every key identically. */
export function samePartitioner(a: PartitionerDesc, b: PartitionerDesc): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Keys sampled from one partition of a sort's input, with the partition's record count (for weighting). */
export interface RangeSample {
  /** Records in the partition. */
  count: number;
  /** A uniform sample of its keys. */
  keys: Key[];
}

/**
 * Bounds for a range partitioner of about `n` partitions from samples, as Spark's
 * RangePartitioner determines them: each sampled key weighs count/keys.length of its
 * partition; bounds cut the weighted, sorted keys into n equal parts and are strictly
 * increasing, so fewer than n-1 bounds come back when there are few distinct keys.
 * Plain key arrays are accepted too (each key weight 1).
 */
export function computeRangeBounds(samples: readonly RangeSample[] | readonly Key[], n: number): Key[] {
  checkCount(n);
  const weighted: { key: Key; weight: number }[] = [];
  for (const s of samples) {
    if (s !== null && typeof s === 'object' && !Array.isArray(s) && 'keys' in s) {
      const sample = s as RangeSample;
      if (sample.keys.length === 0) continue;
      const weight = sample.count / sample.keys.length;
      for (const key of sample.keys) weighted.push({ key, weight });
    } else {
      weighted.push({ key: s as Key, weight: 1 });
    }
  }
  if (n === 1 || weighted.length === 0) return [];
  weighted.sort((a, b) => compareKeys(a.key, b.key));
  const total = weighted.reduce((sum, w) => sum + w.weight, 0);
  const step = total / n;
  const bounds: Key[] = [];
  let cumulative = 0;
  let target = step;
  let previous: Key | undefined;
  for (const { key, weight } of weighted) {
    cumulative += weight;
    if (cumulative >= target) {
      if (previous === undefined || compareKeys(key, previous) > 0) {
        bounds.push(key);
        previous = key;
        target += step;
        if (bounds.length === n - 1) break;
      }
    }
  }
  return bounds;
}
