/**
 * Global sort: seeded 100-byte records (10-character key, 90-character payload) sorted by
 * key into range partitions. The sort's range bounds come from a hidden sampling job, as in
 * Spark. Returns the first keys, the count and `ordered`, the job's own check of the output's
 * order: whether the keys never decrease inside each partition and from each partition to the
 * next (per-partition summaries merged in partition order). With `output` the sorted records
 * are saved as text, one part file per partition, and `ordered` is returned with them.
 *
 *   stratus run examples/sort.ts --param records=100000 --param partitions=8
 */
import { defineJob } from 'stratus';
import { seededRandom } from './lib/generate.js';

export interface SortParams {
  records: number;
  partitions?: number;
  seed?: number;
  /** Save the sorted records here (local folder or az://container/prefix). */
  output?: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The `index`-th record of the data set for `seed` (each slice can generate its own part). */
export function sortRecords(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let key = '';
    for (let c = 0; c < 10; c++) key += ALPHABET[Math.floor(random() * ALPHABET.length)];
    out.push(`${key}${String(i).padStart(12, '0')}${'x'.repeat(78)}`);
  }
  return out;
}

/** The order check of a run of keys: `sorted` when no key is smaller than the one before it. */
export interface OrderCheck {
  sorted: boolean;
  records: number;
  firstKey: string | null;
  lastKey: string | null;
}

/** The check of no keys at all. */
export const NO_KEYS: OrderCheck = { sorted: true, records: 0, firstKey: null, lastKey: null };

/** Add the next key of a partition (in its order) to that partition's check. */
export function checkNextKey(check: OrderCheck, key: string): OrderCheck {
  check.sorted &&= check.lastKey === null || check.lastKey <= key;
  check.firstKey ??= key;
  check.lastKey = key;
  check.records++;
  return check;
}

/** Join the checks of two runs of keys, `a` before `b`. */
export function joinChecks(a: OrderCheck, b: OrderCheck): OrderCheck {
  if (a.records === 0) return b;
  if (b.records === 0) return a;
  return {
    sorted: a.sorted && b.sorted && a.lastKey! <= b.firstKey!,
    records: a.records + b.records,
    firstKey: a.firstKey,
    lastKey: b.lastKey,
  };
}

export default defineJob((ctx, p: SortParams) => {
  const partitions = p.partitions ?? ctx.defaultParallelism;
  const sorted = ctx
    .parallelize(sortRecords(p.records, p.seed ?? 42), partitions)
    .sortBy((record) => record.slice(0, 10), true, partitions);
  const keys = sorted.map((r) => r.slice(0, 10));
  // aggregate merges the partitions' results in partition order, which is the output's order.
  const ordered = keys.aggregate({ ...NO_KEYS }, checkNextKey, joinChecks);
  if (p.output) return { saved: sorted.saveAsTextFile(p.output), ordered };
  return { first: keys.take(5), count: sorted.count(), ordered };
});
