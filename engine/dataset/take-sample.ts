/**
 * takeSample(withReplacement, num, seed), as Spark's RDD.takeSample: exactly `num` records — all
 * of them, in random order, when there are fewer and no replacement — the same ones for the same
 * seed. Spark counts the dataset (a job), then samples with an oversized fraction and collects,
 * sampling again when the sample came out short. stratus runs the count as a hidden job (records
 * per partition) and then needs no second chance: every task draws the same `num` positions in
 * [0, total) from the seed — distinct ones, in random order, by a partial Fisher–Yates shuffle
 * without replacement; independent ones with — and keeps the records at the positions that fall
 * in its own partition, tagged with their draw number; the driver orders them by draw number.
 *
 * Positions count records in dataset order, so the sample depends on the seed and the records,
 * not on how they are partitioned. Each task does O(num) work besides reading its partition and
 * the driver holds `num` records, as Spark's does. As in Spark, the dataset must give the same
 * records to the count and to the sampling job (recompute deterministically, or cache it).
 *
 * Partial: `[drawNumber, record]` pairs of the partition.
 */
import { ConfigError } from '../../contract/errors.js';
import { type SeededRandom, seededRandom } from '../records/rng.js';
import type { ActionImpl } from './actions.js';
import { startOffsets } from './hidden-jobs.js';

/** The stream of seededRandom that takeSample draws from (sample() uses the partition indices). */
const TAKE_SAMPLE_STREAM = -0x7a6b;

/** A uniform integer in [0, n) with 53 bits of randomness (n may exceed 2^32). */
function below(random: SeededRandom, n: number): number {
  const high = Math.floor(random.next() * 2 ** 21);
  const low = Math.floor(random.next() * 2 ** 32);
  return Math.floor(((high * 2 ** 32 + low) / 2 ** 53) * n);
}

/** The positions takeSample draws among `total` records, in draw order. */
export function samplePositions(
  total: number,
  num: number,
  withReplacement: boolean,
  seed: number,
): number[] {
  const random = seededRandom(seed, TAKE_SAMPLE_STREAM);
  const positions: number[] = [];
  if (total === 0) return positions;
  if (withReplacement) {
    for (let i = 0; i < num; i++) positions.push(below(random, total));
    return positions;
  }
  // A Fisher–Yates shuffle of 0..total-1 stopped after k steps; only the swapped slots are stored.
  const swapped = new Map<number, number>();
  const k = Math.min(num, total);
  for (let i = 0; i < k; i++) {
    const j = i + below(random, total - i);
    const atI = swapped.get(i) ?? i;
    positions.push(swapped.get(j) ?? j);
    swapped.set(j, atI);
  }
  return positions;
}

/** Checks takeSample's arguments (Spark: num >= 0; a seed as a Long, here a 32-bit integer). */
export function checkTakeSample(num: number, seed: number): void {
  if (!Number.isInteger(num) || num < 0)
    throw new ConfigError(`takeSample: num must be a non-negative integer, got ${num}`);
  if (!Number.isInteger(seed)) throw new ConfigError(`takeSample: seed must be an integer, got ${seed}`);
}

/** takeSample's action; `countJob` is the id of the hidden job counting each partition's records. */
export function takeSampleImpl(
  withReplacement: boolean,
  num: number,
  seed: number,
  countJob: number | undefined,
): ActionImpl {
  return {
    async partial(batches, partition, hidden) {
      if (countJob === undefined) return [];
      const counts = hidden(countJob) as number[];
      const start = startOffsets(counts, counts.length)[partition]!;
      const end = start + counts[partition]!;
      const total = counts.reduce((a, b) => a + b, 0);
      // Draw numbers by local position, for the draws that fall in this partition.
      const mine = new Map<number, number[]>();
      samplePositions(total, num, withReplacement, seed).forEach((position, draw) => {
        if (position < start || position >= end) return;
        const draws = mine.get(position - start) ?? [];
        draws.push(draw);
        mine.set(position - start, draws);
      });
      const out: [number, unknown][] = [];
      if (mine.size === 0) return out;
      let last = 0;
      for (const local of mine.keys()) if (local > last) last = local;
      let index = 0;
      for await (const batch of batches) {
        for (const record of batch) {
          for (const draw of mine.get(index) ?? []) out.push([draw, record]);
          // Past the last drawn position the rest of the partition is not read.
          if (index++ === last) return out;
        }
      }
      return out;
    },
    merge(partials) {
      const all = (partials as [number, unknown][][]).flat();
      all.sort((a, b) => a[0] - b[0]);
      return all.map(([, record]) => record);
    },
    ...(countJob !== undefined ? { needs: [countJob] } : {}),
  };
}
