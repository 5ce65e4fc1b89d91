/**
 * The RDD transformations of issue 13 on real executors (the distributed scheduler, blob
 * shuffle, task messages), against plain JS: cartesian as one narrow stage of n1 × n2 tasks,
 * also over a shuffled side; groupBy, intersection and subtract through shuffles; randomSplit.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import type { TransformsParams } from './jobs/transforms.js';

const JOB = path.resolve(import.meta.dirname, 'jobs/transforms.ts');

let e2e: E2EFabric;

beforeAll(async () => {
  e2e = await startE2E({ label: 'rdd-transforms' });
});

afterAll(async () => {
  await e2e?.close();
});

/** Spark's parallelize slices: slice i is [floor(i*len/n), floor((i+1)*len/n)). */
function slices<T>(data: readonly T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) =>
    data.slice(Math.floor((i * data.length) / n), Math.floor(((i + 1) * data.length) / n)),
  );
}

/** Partition i*n2+j of a cartesian product: partition i × partition j, in order. */
function product<T, U>(left: T[][], right: U[][]): [T, U][][] {
  return left.flatMap((li) => right.map((rj) => li.flatMap((x) => rj.map((y) => [x, y] as [T, U]))));
}

const sortNumbers = (xs: number[]) => [...xs].sort((x, y) => x - y);

describe('issue-13 transformations on executors', () => {
  it('cartesian, groupBy, intersection, subtract and randomSplit equal plain JS; cartesian does not shuffle', async () => {
    // Five slices of b's four numbers: its slice 0 is empty, so are 5 of the 25 cartesian partitions.
    const p: TransformsParams = { a: [5, 1, 4, 1, 9, 2, 6], b: [1, 9, 9, 7], slices: 5, partitions: 3 };
    e2e.events.clear();
    const r = (await e2e.driver.run(JOB, p)) as {
      cartesian: [number, number][][];
      shuffledCartesian: [[number, number], number][][];
      sums: [number, number][][];
      groups: [number, number[]][];
      intersection: number[];
      subtract: number[][];
      splits: [number, number][];
    };
    const inB = new Set(p.b);
    expect(r.cartesian).toEqual(product(slices(p.a, p.slices), slices(p.b, p.slices)));
    // A shuffled side is read by its reduce partitions, as the sums job saw them.
    expect(r.shuffledCartesian).toEqual(product(r.sums, slices(p.b, p.slices)));
    expect(sortNumbers(r.sums.flat().map(([k]) => k))).toEqual([0, 1, 2]);
    expect([...r.groups].sort(([x], [y]) => x - y)).toEqual(
      [0, 1, 2].map((k) => [k, sortNumbers(p.a.filter((x) => x % 3 === k))]),
    );
    expect(sortNumbers(r.intersection)).toEqual([1, 9]);
    expect(r.subtract).toHaveLength(p.partitions);
    expect(sortNumbers(r.subtract.flat())).toEqual(sortNumbers(p.a.filter((x) => !inB.has(x))));
    // Both splits together hold each slice's records exactly once: union's partitions, split by split.
    const sizes = slices(p.a, p.slices).map((s) => s.length);
    const perSplit = r.splits.map(([, n]) => n);
    expect(perSplit).toHaveLength(2 * p.slices);
    expect(sizes.map((_, i) => perSplit[i]! + perSplit[i + p.slices]!)).toEqual(sizes);

    const cartesianJob = e2e.events.of('job-start').find((j) => j.actionName === 'cartesian')!;
    expect(cartesianJob.stages!.map((s) => [s.kind, s.numPartitions])).toEqual([['result', 25]]);
    expect(cartesianJob.plan).toMatch(/cartesian at transforms\.ts:\d+/);
    const subtractJob = e2e.events.of('job-start').find((j) => j.actionName === 'subtract')!;
    expect(subtractJob.stages!.map((s) => s.kind)).toEqual(['shuffle-map', 'shuffle-map', 'result']);
  });
});
