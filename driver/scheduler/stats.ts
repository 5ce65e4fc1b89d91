/** Small statistics shared by the scheduler, run summaries and benchmarks. */

/** The `q`-quantile (0–1) of `values` by the nearest-rank method; 0 for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
