/**
 * A dataset marked cache() whose records are counted as they are computed (`computed`): the same
 * run (same params) made twice in one driver session computes them in the first run only.
 */
import { defineJob } from 'stratus';
import { countedSquares } from './lib/counted-squares.js';

export default defineJob((ctx, p: { n: number; slices: number; partitions: number }) => {
  const squares = countedSquares(ctx, p.n, p.slices);
  return squares.reduceByKey((a, b) => a + b, p.partitions).collect();
});
