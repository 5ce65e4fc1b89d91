/** Helpers to run small jobs through the in-memory runner and compare with plain-JS references. */
import fc from 'fast-check';
import type { Action } from '../../engine/dataset/actions.js';
import type { JobContext } from '../../engine/dataset/context.js';
import { defineJob } from '../../engine/dataset/job.js';
import { canonicalKey, compareKeys } from '../../engine/records/keys.js';
import { type InMemoryRunOptions, runJobInMemory } from '../../engine/testing/in-memory-runner.js';

/** Run one action built by `build` and return its result. */
export async function runAction<R>(
  build: (ctx: JobContext) => Action<R>,
  options: InMemoryRunOptions = {},
): Promise<R> {
  const job = defineJob((ctx) => build(ctx));
  const { results } = await runJobInMemory(job, undefined, options);
  return results as R;
}

/** Records sorted by a stable JSON form (object keys sorted): compare results whose order is unspecified. */
export function bag<T>(records: readonly T[]): T[] {
  const keyed = records.map((r) => [stableJson(r), r] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return keyed.map(([, r]) => r);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(Object.is(v, -0) ? 0 : v) ?? 'undefined';
}

/** A plain-JS group-by: key → values in first-seen order. */
export function groupRef<K, V>(pairs: readonly (readonly [K, V])[]): Map<string, [K, V[]]> {
  const groups = new Map<string, [K, V[]]>();
  for (const [k, v] of pairs) {
    const id = canonicalKey(k);
    const g = groups.get(id);
    if (g) g[1].push(v);
    else groups.set(id, [k, [v]]);
  }
  return groups;
}

/** Sort [key, …] records by key. */
export function byKey<T extends readonly unknown[]>(records: readonly T[]): T[] {
  return [...records].sort((a, b) => compareKeys(a[0], b[0]));
}

/** Small partition counts, 1..8. */
export const partitionsArb = fc.integer({ min: 1, max: 8 });
/** Small arrays of small ints (so parallelize often has more slices than elements). */
export const intsArb = fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 30 });
/** Pairs with few distinct keys (strings and numbers mixed), so keys repeat. */
export const pairsArb = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 0, max: 3 })),
    fc.integer({ min: -9, max: 9 }),
  ),
  { maxLength: 30 },
);
/** Property settings for job-running properties (each run executes many tasks). */
export const jobRuns = { numRuns: 30 };
