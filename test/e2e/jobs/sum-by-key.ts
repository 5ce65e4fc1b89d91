/** Sums by key of seeded [key, value] pairs: one shuffle (id 0) whose data depends on the seed. */
import { defineJob } from 'stratus';
import { seededRandom } from '../../../examples/lib/generate.js';

export interface SumByKeyParams {
  seed: number;
  pairs: number;
  keys: number;
}

/** The job's input, for a plain-JS reference. */
export function sumByKeyInput(p: SumByKeyParams): [string, number][] {
  const random = seededRandom(p.seed);
  return Array.from(
    { length: p.pairs },
    () => [`k${Math.floor(random() * p.keys)}`, Math.floor(random() * 1000)] as [string, number],
  );
}

export default defineJob((ctx, p: SumByKeyParams) =>
  ctx
    .parallelize(sumByKeyInput(p), 3)
    .reduceByKey((a, b) => a + b, 2)
    .collect(),
);
