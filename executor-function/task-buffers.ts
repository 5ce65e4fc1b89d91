/**
 * The sizes of a task's fixed I/O buffers, scaled to its memory budget. The budget bounds what
 * sorters, aggregators and map outputs hold; these buffers sit beside it (input range reads,
 * shuffle segments being fetched, output blocks being filled and staged), so at the old fixed
 * sizes (4 MiB ranges, 8 concurrent segment fetches, 8 MiB blocks × 3 per blob) a 64 MiB task
 * held up to ~60 MiB more than its budget. Each now takes a fraction of the budget, between
 * a floor that keeps requests few and the old size.
 */

const MiB = 1024 * 1024;

const clamp = (value: number, min: number, max: number) => Math.max(min, Math.min(max, Math.floor(value)));

/** Largest range read of an input split: budget / 32, between 1 MiB and 4 MiB (2 MiB at 64 MiB). */
export function inputRangeBytes(budgetBytes: number): number {
  return clamp(budgetBytes / 32, 1 * MiB, 4 * MiB);
}

/**
 * Staged block size of a written blob (map outputs, part files): budget / 32, between 1 MiB and
 * 8 MiB. A writer holds one block being filled and up to two in flight: 6 MiB at 64 MiB.
 */
export function outputBlockBytes(budgetBytes: number): number {
  return clamp(budgetBytes / 32, 1 * MiB, 8 * MiB);
}

/**
 * Concurrent segment fetches of a reduce task: as many average-sized segments as fit in
 * budget / 8, between 2 (one segment in use, one arriving) and 8.
 */
export function shuffleFetchConcurrency(budgetBytes: number, averageSegmentBytes: number): number {
  if (averageSegmentBytes <= 0) return 8;
  return clamp(budgetBytes / 8 / averageSegmentBytes, 2, 8);
}
