/**
 * Global sort: seeded 100-byte records (10-character key, 90-character payload) sorted by
 * key into range partitions. The sort's range bounds come from a hidden sampling job, as in
 * Spark. Returns the first keys, the count and whether the output is ordered; with `output`
 * the sorted records are saved as text, one part file per partition.
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

export default defineJob((ctx, p: SortParams) => {
  const partitions = p.partitions ?? ctx.defaultParallelism;
  const sorted = ctx
    .parallelize(sortRecords(p.records, p.seed ?? 42), partitions)
    .sortBy((record) => record.slice(0, 10), true, partitions);
  if (p.output) return { saved: sorted.saveAsTextFile(p.output) };
  return {
    first: sorted.map((r) => r.slice(0, 10)).take(5),
    count: sorted.count(),
  };
});
