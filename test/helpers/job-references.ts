/** Plain-JS answers of test/e2e/jobs (pairs.ts: wide operators over [key, value] pairs; cached.ts), and the checks of a driver's runs against them. */
import path from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Driver, RunReport } from '../../driver/app/driver.js';
import { compareKeys } from '../../engine/records/keys.js';

/** Rows sorted by key, then by their JSON: a canonical order for comparing unordered results. */
export const byKey = <T extends [unknown, ...unknown[]]>(rows: T[]): T[] =>
  [...rows].sort(
    (a, b) =>
      compareKeys(a[0] as never, b[0] as never) ||
      compareKeys(JSON.stringify(a) as never, JSON.stringify(b) as never),
  );

export function pairsReference(pairs: [string, number][], other: [string, number][]) {
  const groups = new Map<string, number[]>();
  for (const [k, v] of pairs) groups.set(k, [...(groups.get(k) ?? []), v]);
  const right = new Map<string, number[]>();
  for (const [k, v] of other) right.set(k, [...(right.get(k) ?? []), v]);
  const joined: [string, [number, number]][] = [];
  const leftOuter: [string, [number, number | null]][] = [];
  for (const [k, v] of pairs) {
    const matches = right.get(k);
    if (!matches) leftOuter.push([k, [v, null]]);
    for (const w of matches ?? []) {
      joined.push([k, [v, w]]);
      leftOuter.push([k, [v, w]]);
    }
  }
  return {
    sums: byKey([...groups].map(([k, vs]) => [k, vs.reduce((a, b) => a + b, 0)] as [string, number])),
    groups: byKey([...groups].map(([k, vs]) => [k, [...vs].sort((a, b) => a - b)] as [string, number[]])),
    joined: byKey(joined),
    leftOuter: byKey(leftOuter),
    distinctKeys: groups.size,
    sortedKeys: pairs.map(([k]) => k).sort((a, b) => compareKeys(a, b)),
  };
}

const JOBS = path.resolve(import.meta.dirname, '../e2e/jobs');
const PAIRS_JOB = path.join(JOBS, 'pairs.ts');

/**
 * Run pairs.ts on `driver` over generated pairs and partition counts (up to `maxSlices` input and
 * `maxPartitions` shuffle partitions, default 6 and 5, empty ones included) and compare with pairsReference.
 */
export async function checkPairsAgainstReference(
  driver: Driver,
  options: { maxSlices?: number; maxPartitions?: number; numRuns: number; seed: number },
): Promise<void> {
  const { maxSlices = 6, maxPartitions = 5 } = options;
  const pair = fc.tuple(
    fc.constantFrom('a', 'b', 'c', 'd', 'e', 'ü', 'a b', ''),
    fc.integer({ min: -50, max: 50 }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(pair, { maxLength: 40 }),
      fc.array(pair, { maxLength: 15 }),
      fc.integer({ min: 1, max: maxSlices }),
      fc.integer({ min: 1, max: maxPartitions }),
      async (pairs, other, slices, partitions) => {
        const result = (await driver.run(PAIRS_JOB, { pairs, other, slices, partitions })) as ReturnType<
          typeof pairsReference
        >;
        expect({
          ...result,
          sums: byKey(result.sums),
          groups: byKey(result.groups),
          joined: byKey(result.joined),
          leftOuter: byKey(result.leftOuter),
        }).toEqual(pairsReference(pairs, other));
      },
    ),
    { numRuns: options.numRuns, seed: options.seed },
  );
}

/**
 * Run cached.ts (one cached dataset, two actions, an accumulator in the cached stage) over n
 * numbers and check its answers and that the accumulator counted each record once; returns the report.
 */
export async function checkCachedJob(driver: Driver, n: number, slices: number): Promise<RunReport<unknown>> {
  const report = await driver.runWithReport(path.join(JOBS, 'cached.ts'), { n, slices });
  const sums = new Map<number, number>();
  for (let i = 0; i < n; i++) sums.set(i % 7, (sums.get(i % 7) ?? 0) + i * i);
  const results = report.results as { total: number; keys: number[] };
  expect(results.total).toBe([...sums.values()].reduce((a, b) => a + b, 0));
  expect([...results.keys].sort()).toEqual([...sums.keys()].sort());
  expect(report.accumulators.computed).toBe(n);
  return report;
}
