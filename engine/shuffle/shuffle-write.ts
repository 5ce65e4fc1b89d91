/**
 * The map side of a shuffle (Spark's sort-based shuffle writer, simplified): each record
 * is routed to its reduce partition — by the stage's partitioner for [key, value] records,
 * round-robin for repartition — and, with map-side combine, folded per key first. Every
 * reduce partition's records are encoded into its own segment; a map output is the R
 * segments (some possibly empty), which the executor writes contiguously to one blob.
 * Encoded chunks are held up to the task's memory share and spilled beyond it
 * (MapOutputBuffer), so a map task's output may be far larger than its budget.
 */

import { asUserCodeError, StratusError } from '../../contract/errors.js';
import type { Aggregator, ShuffleDependency } from '../plan/nodes.js';
import type { ShuffleWriteInfo } from '../plan/stages.js';
import type { RecordCodec } from '../records/codec.js';
import { canonicalKey, InvalidKeyError } from '../records/keys.js';
import { mixInts } from '../records/murmur3.js';
import { estimateSize, type MemoryTracker } from '../task/memory.js';
import { type MapOutput, MapOutputBuffer } from './map-output.js';
import { createPartitioner } from './partitioner.js';
import { BATCH_SIZE, type SpillStore } from './spill.js';

/** What a map task wrote. */
export interface ShuffleWriteResult {
  /** The R encoded segments, partly spilled; the caller writes them out, then discards it. */
  output: MapOutput;
  recordsWritten: number;
}

/** Options of writeShuffle. */
export interface ShuffleWriteOptions {
  info: ShuffleWriteInfo;
  dep: ShuffleDependency;
  /** Set when the shuffle combines map-side. */
  aggregator: Aggregator | undefined;
  mapPartition: number;
  codec: RecordCodec;
  memory: MemoryTracker;
  /** Where encoded chunks over the memory share are spilled. */
  spill: SpillStore;
  /** The operation whose shuffle this is, for errors (`reduceByKey (node 4)`). */
  label: string;
  /** The node whose records are written (`map (node 3)`), named when a record cannot be encoded. */
  producer: string;
}

/** Partition (and maybe combine) the records of one map partition into R encoded segments. */
export async function writeShuffle(
  batches: AsyncIterable<unknown[]>,
  options: ShuffleWriteOptions,
): Promise<ShuffleWriteResult> {
  const { info, dep, aggregator, codec, label } = options;
  // Combiners come from the shuffle's own aggregator; plain records from the map-side node.
  const encodeLabel = aggregator ? label : options.producer;
  const partitioner = createPartitioner(info.partitioner);
  const R = info.numReducePartitions;
  if (dep.keyed && partitioner.numPartitions !== R) {
    throw new Error(`internal: partitioner has ${partitioner.numPartitions} partitions, shuffle has ${R}`);
  }
  // Records wait per reduce partition until a batch is full, then are encoded into a chunk of
  // the output. Those batches are not accounted: they are at most R × BATCH_SIZE records, not a
  // function of the input's size.
  const out = new MapOutputBuffer(R, { spill: options.spill, memory: options.memory });
  const pending: unknown[][] = Array.from({ length: R }, () => []);
  let recordsWritten = 0;
  /** Route one record; true when that encoded a chunk (the caller then checks memory). */
  const emit = (p: number, record: unknown): boolean => {
    const list = pending[p]!;
    list.push(record);
    recordsWritten++;
    if (list.length < BATCH_SIZE) return false;
    out.add(p, codec.encode(list, encodeLabel));
    pending[p] = [];
    return true;
  };
  const partitionOf = (key: unknown): number => {
    try {
      return partitioner.getPartition(key);
    } catch (error) {
      if (error instanceof InvalidKeyError) throw new InvalidKeyError(`${label}: ${error.message}`);
      throw error;
    }
  };
  const keyId = (key: unknown): string => {
    try {
      return canonicalKey(key);
    } catch (error) {
      if (error instanceof InvalidKeyError) throw new InvalidKeyError(`${label}: ${error.message}`);
      throw error;
    }
  };
  const checkPair = (record: unknown): [unknown, unknown] => {
    if (!Array.isArray(record) || record.length !== 2) {
      throw new StratusError(
        'NOT_A_PAIR',
        `${label} needs [key, value] records, got ${JSON.stringify(record)}`,
      );
    }
    return record as [unknown, unknown];
  };

  try {
    await routeRecords();
    pending.forEach((rest, p) => {
      if (rest.length > 0) out.add(p, codec.encode(rest, encodeLabel));
    });
    out.seal();
  } catch (error) {
    await out.discard();
    throw error;
  }
  return { output: out, recordsWritten };

  async function routeRecords(): Promise<void> {
    if (!dep.keyed) {
      let next = mixInts(options.mapPartition, 0) % R;
      for await (const batch of batches) {
        for (const record of batch) {
          emit(next, record);
          next = next + 1 === R ? 0 : next + 1;
        }
        await out.spillIfOverLimit();
      }
    } else if (!aggregator) {
      for await (const batch of batches) {
        for (const record of batch) emit(partitionOf(checkPair(record)[0]), record);
        await out.spillIfOverLimit();
      }
    } else {
      // Map-side combine; over the memory share, flush the partial combiners (the reduce side merges them).
      // String keys (the common case) are their own map key — two strings are equal keys exactly when
      // they are equal strings — and map straight to their combiner: no canonical encoding, no entry
      // object, and the reduce partition is computed once per key when flushed (word-count profile:
      // per-record key encoding, hashing and entry reads were most of the map task). Other keys are
      // encoded once and keep an entry with the original key and its partition.
      const memory = options.memory.register();
      type Entry = { p: number; key: unknown; combiner: unknown };
      let stringCombiners = new Map<string, unknown>();
      let otherCombiners = new Map<string, Entry>();
      // Flushed combiners become encoded chunks, which may spill while the flush goes on.
      const flush = async () => {
        const strings = stringCombiners;
        const others = otherCombiners;
        stringCombiners = new Map();
        otherCombiners = new Map();
        for (const [key, combiner] of strings) {
          if (emit(partitionOf(key), [key, combiner])) await out.spillIfOverLimit();
        }
        for (const e of others.values()) if (emit(e.p, [e.key, e.combiner])) await out.spillIfOverLimit();
        memory.set(0);
      };
      try {
        for await (const batch of batches) {
          for (const record of batch) {
            const [key, value] = checkPair(record);
            if (typeof key === 'string') {
              const current = stringCombiners.get(key);
              const exists = current !== undefined || stringCombiners.has(key);
              try {
                if (exists) {
                  stringCombiners.set(key, aggregator.mergeValue(current, value));
                  memory.add(estimateSize(value));
                } else {
                  const combiner = aggregator.createCombiner(value);
                  stringCombiners.set(key, combiner);
                  memory.add(64 + 3 * key.length + estimateSize(combiner));
                }
              } catch (error) {
                throw asUserCodeError(label, error);
              }
            } else {
              const id = keyId(key);
              const entry = otherCombiners.get(id);
              const p = entry === undefined ? partitionOf(key) : entry.p;
              try {
                if (entry) {
                  entry.combiner = aggregator.mergeValue(entry.combiner, value);
                  memory.add(estimateSize(value));
                } else {
                  const combiner = aggregator.createCombiner(value);
                  otherCombiners.set(id, { p, key, combiner });
                  memory.add(64 + 3 * id.length + estimateSize(combiner));
                }
              } catch (error) {
                throw asUserCodeError(label, error);
              }
            }
            if (memory.overLimit()) await flush();
          }
        }
        await flush();
      } finally {
        memory.release();
      }
    }
  }
}
