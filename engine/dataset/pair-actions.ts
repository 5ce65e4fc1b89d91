/**
 * Actions on [key, value] pairs beyond countByKey: collectAsMap and lookup, as Spark's
 * PairRDDFunctions. Keys are compared by the engine's key equality (canonicalKey), so two equal
 * array keys are one key, as they are to reduceByKey.
 *
 * Partials: collectAsMap → the partition's pairs; lookup → the values of the key in the partition.
 */
import { StratusError } from '../../contract/errors.js';
import { canonicalKey, InvalidKeyError, type Key } from '../records/keys.js';
import type { ActionImpl } from './actions.js';

/** The pair `record` is, with its key's canonical string; NOT_A_PAIR / INVALID_KEY naming `label` otherwise. */
function pairOf(label: string, record: unknown): { key: unknown; value: unknown; id: string } {
  if (!Array.isArray(record) || record.length !== 2) {
    throw new StratusError(
      'NOT_A_PAIR',
      `${label} needs [key, value] records, got ${JSON.stringify(record)}`,
    );
  }
  try {
    return { key: record[0], value: record[1], id: canonicalKey(record[0]) };
  } catch (error) {
    if (error instanceof InvalidKeyError) throw new InvalidKeyError(`${label}: ${error.message}`);
    throw error;
  }
}

/**
 * collectAsMap(): the pairs as a Map, a later pair of an equal key replacing the value of an
 * earlier one (in partition order), as Spark fills its HashMap. The Map's key for equal keys is
 * the first one met, so look array keys up by value with canonicalKey, not by identity.
 */
export function collectAsMapImpl(): ActionImpl {
  return {
    async partial(batches) {
      const pairs: unknown[] = [];
      for await (const batch of batches) {
        for (const r of batch) {
          pairOf('collectAsMap', r);
          pairs.push(r);
        }
      }
      return pairs;
    },
    merge(partials) {
      const map = new Map<unknown, unknown>();
      const firstKey = new Map<string, unknown>();
      for (const pairs of partials as [Key, unknown][][]) {
        for (const [key, value] of pairs) {
          const id = canonicalKey(key);
          if (!firstKey.has(id)) firstKey.set(id, key);
          map.set(firstKey.get(id), value);
        }
      }
      return map;
    },
  };
}

/**
 * lookup(key): every value of `key`, in partition order. With `partition`, the dataset's
 * partitioner put every pair of `key` there: only that partition is computed (Spark's lookup
 * with a known partitioner); otherwise every partition is scanned.
 */
export function lookupImpl(key: Key, partition: number | undefined): ActionImpl {
  const wanted = canonicalKey(key);
  return {
    async partial(batches) {
      const values: unknown[] = [];
      for await (const batch of batches) {
        for (const r of batch) {
          const pair = pairOf('lookup', r);
          if (pair.id === wanted) values.push(pair.value);
        }
      }
      return values;
    },
    merge: (partials) => (partials as unknown[][]).flat(),
    ...(partition !== undefined ? { partitions: () => [partition] } : {}),
  };
}
