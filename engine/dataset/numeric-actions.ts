/**
 * The actions of datasets of numbers, as Spark's DoubleRDDFunctions: sum (a fold from 0), stats
 * and mean (one StatCounter per partition, merged on the driver), histogram over explicit
 * bucket boundaries, and histogram over evenly spaced buckets — which first needs the range of
 * the values, found by a hidden job (`histogramRange`), as Spark runs a min/max job first.
 *
 * Records must be finite numbers (what a record can hold); anything else fails the task with
 * NOT_A_NUMBER naming the action.
 *
 * Partials: sum → the partition's sum; stats/mean → StatPartial; histogramRange →
 * {min, max} | null; histogram → the partition's count per bucket.
 */
import { ConfigError, EmptyCollectionError, StratusError } from '../../contract/errors.js';
import type { ActionImpl } from './actions.js';
import { StatCounter, type StatPartial } from './stat-counter.js';

function checkNumber(label: string, record: unknown): number {
  if (typeof record !== 'number' || !Number.isFinite(record)) {
    const what =
      typeof record === 'number'
        ? String(record)
        : typeof record === 'object'
          ? JSON.stringify(record)
          : `${typeof record} ${String(record)}`;
    throw new StratusError(
      'NOT_A_NUMBER',
      `${label}: records must be finite numbers, got ${what?.slice(0, 80)}`,
    );
  }
  return record;
}

/** sum(): Spark's fold(0)(_ + _); 0 for an empty dataset. */
export function sumImpl(): ActionImpl {
  return {
    async partial(batches) {
      let sum = 0;
      for await (const batch of batches) for (const r of batch) sum += checkNumber('sum()', r);
      return sum;
    },
    merge: (partials) => (partials as number[]).reduce((a, b) => a + b, 0),
  };
}

/** stats() (the merged StatCounter) or mean() (its mean: NaN for an empty dataset, as Spark). */
export function statsImpl(op: 'stats' | 'mean'): ActionImpl {
  const label = `${op}()`;
  return {
    async partial(batches) {
      const counter = new StatCounter();
      for await (const batch of batches) for (const r of batch) counter.add(checkNumber(label, r));
      return counter.toPartial();
    },
    merge(partials) {
      const all = new StatCounter();
      for (const p of partials as StatPartial[]) all.merge(StatCounter.fromPartial(p));
      return op === 'stats' ? all : all.mean;
    },
  };
}

/** The range of a dataset's values, as the hidden job of histogram(bucketCount) finds it. */
export interface ValueRange {
  min: number;
  max: number;
}

/** The hidden job of histogram(bucketCount): min and max; an empty dataset fails it (EMPTY_COLLECTION, `label`). */
export function histogramRangeImpl(label: string): ActionImpl {
  return {
    async partial(batches) {
      let range: ValueRange | null = null;
      for await (const batch of batches) {
        for (const r of batch) {
          const x = checkNumber(label, r);
          if (range === null) range = { min: x, max: x };
          else if (x < range.min) range.min = x;
          else if (x > range.max) range.max = x;
        }
      }
      return range;
    },
    merge(partials) {
      let range: ValueRange | null = null;
      for (const p of partials as (ValueRange | null)[]) {
        if (p === null) continue;
        range =
          range === null ? { ...p } : { min: Math.min(range.min, p.min), max: Math.max(range.max, p.max) };
      }
      // Spark: "Histogram on either an empty RDD or RDD containing +/-infinity or NaN".
      if (range === null) throw new EmptyCollectionError(label);
      return range;
    },
  };
}

/**
 * Spark's evenly spaced boundaries: `min + i·(max − min)/count` for i < count, then max; a single
 * bucket [min, min] when every value is the same.
 */
export function evenBuckets(range: ValueRange, bucketCount: number): number[] {
  if (range.min === range.max) return [range.min, range.min];
  const span = range.max - range.min;
  const buckets = Array.from({ length: bucketCount }, (_, i) => range.min + (i * span) / bucketCount);
  buckets.push(range.max);
  return buckets;
}

/** Boundaries given to histogram(buckets): at least two finite numbers, strictly increasing. */
export function checkBuckets(buckets: readonly number[]): void {
  const ok =
    Array.isArray(buckets) &&
    buckets.length >= 2 &&
    buckets.every((b, i) => typeof b === 'number' && Number.isFinite(b) && (i === 0 || b > buckets[i - 1]!));
  if (!ok) {
    throw new ConfigError(
      `histogram: buckets must be at least two finite numbers in strictly increasing order, got ${JSON.stringify(buckets)}`,
    );
  }
}

/**
 * The bucket of `x` among sorted `buckets` (Spark's basicBucketFunction): bucket i holds
 * [buckets[i], buckets[i+1]), the last one is closed on the right; -1 outside them all.
 */
export function bucketOf(buckets: readonly number[], x: number): number {
  const last = buckets.length - 1;
  if (!(x >= buckets[0]!) || !(x <= buckets[last]!)) return -1;
  if (x === buckets[last]) return last - 1;
  // The last boundary <= x.
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (buckets[mid]! <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Bucket of `x` among evenly spaced boundaries in constant time (Spark's fastBucketFunction). */
function evenBucketOf(buckets: readonly number[], x: number): number {
  const count = buckets.length - 1;
  const min = buckets[0]!;
  const max = buckets[count]!;
  if (x < min || x > max) return -1;
  if (max === min) return 0;
  return Math.min(Math.floor(((x - min) / (max - min)) * count), count - 1);
}

/**
 * histogram: counts per bucket. With `buckets`, the explicit form (result: the counts); with
 * `bucketCount` and the id of its range job, the evenly spaced form (result: [boundaries, counts]).
 */
export function histogramImpl(
  form: { buckets: readonly number[] } | { bucketCount: number; rangeJob: number },
  label: string,
): ActionImpl {
  const bucketsOf = (hidden: (id: number) => unknown): readonly number[] =>
    'buckets' in form ? form.buckets : evenBuckets(hidden(form.rangeJob) as ValueRange, form.bucketCount);
  const find = 'buckets' in form ? bucketOf : evenBucketOf;
  return {
    async partial(batches, _partition, hidden) {
      const buckets = bucketsOf(hidden);
      const counts = new Array<number>(buckets.length - 1).fill(0);
      for await (const batch of batches) {
        for (const r of batch) {
          const i = find(buckets, checkNumber(label, r));
          if (i >= 0) counts[i]! += 1;
        }
      }
      return counts;
    },
    merge(partials, hidden) {
      const buckets = bucketsOf(hidden);
      const counts = new Array<number>(buckets.length - 1).fill(0);
      for (const p of partials as number[][]) for (const [i, c] of p.entries()) counts[i]! += c;
      return 'buckets' in form ? counts : [buckets, counts];
    },
    ...('rangeJob' in form ? { needs: [form.rangeJob] } : {}),
  };
}
