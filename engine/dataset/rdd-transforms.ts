/**
 * The logic behind the RDD transformations added in issue 13 (groupBy, intersection, subtract,
 * cartesian, glom, mapPartitionsWithIndex, sampleByKey, randomSplit), kept out of dataset.ts,
 * whose methods only wire these pieces into nodes. Each function names the Spark code path
 * it reproduces; the choices Spark leaves open are in docs/decisions.md.
 */
import { ConfigError, StratusError } from '../../contract/errors.js';
import type { BatchTransform } from '../plan/nodes.js';
import type { OptionValue } from '../plan/option-value.js';
import { canonicalKey, type Key } from '../records/keys.js';
import { poisson, seededRandom } from '../records/rng.js';

/** `[record, null]`: a record turned into a key, as Spark's intersection and subtract do (`map(v => (v, null))`). */
export const recordAsKey: BatchTransform = (batch) => batch.map((r) => [r, null]);

/** After a cogroup of `[record, null]` pairs: each record present on both sides, once (intersection). */
export const keysOnBothSides: BatchTransform = (batch) => {
  const out: unknown[] = [];
  for (const r of batch) {
    const [k, [here, there]] = r as [unknown, [unknown[], unknown[]]];
    if (here.length > 0 && there.length > 0) out.push(k);
  }
  return out;
};

/**
 * After a cogroup of `[record, null]` pairs: every occurrence on this side of a record absent
 * from the other side (subtract keeps duplicates, as Spark's subtractByKey(...).keys does).
 */
export const keysOnlyHere: BatchTransform = (batch) => {
  const out: unknown[] = [];
  for (const r of batch) {
    const [k, [here, there]] = r as [unknown, [unknown[], unknown[]]];
    if (there.length === 0) for (let i = 0; i < here.length; i++) out.push(k);
  }
  return out;
};

/** Sampling fractions by key: a Map (any keys) or an object (string keys). */
export type KeyFractions<K> = ReadonlyMap<K, number> | Readonly<Record<string, number>>;

function checkFraction(op: string, fraction: unknown, withReplacement: boolean, what: string): number {
  if (typeof fraction !== 'number' || !(fraction >= 0) || (!withReplacement && fraction > 1)) {
    throw new ConfigError(
      `${op}: ${what} must be a number in [0, 1] without replacement and >= 0 with, got ${String(fraction)}`,
    );
  }
  return fraction;
}

/**
 * Spark's sampleByKey (StratifiedSamplingUtils' Bernoulli and Poisson sampling functions): one
 * seeded stream per partition; a record of key k is kept when a uniform draw is below
 * fractions(k), or repeated Poisson(fractions(k)) times with replacement. A key with no fraction
 * fails the task (SAMPLE_FRACTION_MISSING), as Spark's `fractions(k)` throws.
 */
export function sampleByKeySampler(
  withReplacement: boolean,
  fractions: KeyFractions<Key>,
  seed: number,
): { open: (partition: number) => BatchTransform; options: Record<string, OptionValue> } {
  const byKey = new Map<string, number>();
  const entries: [unknown, unknown][] =
    fractions instanceof Map ? [...fractions] : Object.entries(fractions as Record<string, unknown>);
  for (const [k, f] of entries) {
    byKey.set(
      canonicalKey(k),
      checkFraction('sampleByKey', f, withReplacement, `the fraction of key ${canonicalKey(k)}`),
    );
  }
  const fractionOf = (key: unknown): number => {
    const f = byKey.get(canonicalKey(key));
    if (f === undefined) {
      throw new StratusError(
        'SAMPLE_FRACTION_MISSING',
        `sampleByKey: no fraction given for key ${canonicalKey(key)}; fractions must name every key of the dataset`,
      );
    }
    return f;
  };
  const open = (partition: number): BatchTransform => {
    const random = seededRandom(seed, partition);
    if (!withReplacement) return (b) => b.filter((r) => random.next() < fractionOf((r as unknown[])[0]));
    return (b) => {
      const out: unknown[] = [];
      for (const r of b)
        for (let n = poisson(random, fractionOf((r as unknown[])[0])); n > 0; n--) out.push(r);
      return out;
    };
  };
  const listed = [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { open, options: { withReplacement, seed, fractions: listed } };
}

/**
 * Spark's randomSplit: the weights normalised into cumulative cells [lower, upper) of [0, 1), one
 * per split. The last upper bound is exactly 1, so rounding never leaves a draw outside every cell.
 */
export function randomSplitCells(weights: readonly number[]): [number, number][] {
  if (weights.length === 0) throw new ConfigError('randomSplit: give at least one weight');
  for (const w of weights) {
    if (!(Number.isFinite(w) && w >= 0)) {
      throw new ConfigError(`randomSplit: weights must be finite and >= 0, got ${w}`);
    }
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new ConfigError('randomSplit: the weights must not all be 0');
  const cells: [number, number][] = [];
  let lower = 0;
  weights.forEach((w, i) => {
    const upper = i === weights.length - 1 ? 1 : Math.min(1, lower + w / sum);
    cells.push([lower, upper]);
    lower = upper;
  });
  return cells;
}

/**
 * Spark's BernoulliCellSampler: every record takes one draw from the partition's seeded stream and
 * is kept when the draw falls in [lower, upper). The splits of one randomSplit share the seed, so
 * each record draws the same number in every split and lands in exactly one of them.
 */
export function cellSampler(
  lower: number,
  upper: number,
  seed: number,
): (partition: number) => BatchTransform {
  return (partition) => {
    const random = seededRandom(seed, partition);
    return (b) =>
      b.filter(() => {
        const x = random.next();
        return x >= lower && x < upper;
      });
  };
}
