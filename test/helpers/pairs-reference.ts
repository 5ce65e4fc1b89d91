/** Plain-JS answers of test/e2e/jobs/pairs.ts (wide operators over [key, value] pairs). */
import { compareKeys } from '../../engine/keys.js';

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
