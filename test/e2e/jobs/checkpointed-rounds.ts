/**
 * A long iterative builder, as Spark programs that checkpoint are: each round re-keys the
 * values and sums them, and every `every`-th round is checkpointed and counted (one job
 * each), so later rounds start from the checkpoint instead of the whole lineage. The
 * accumulator `sourced` counts records read from the source: computed once for the run.
 */
import { defineJob } from 'stratus';

export interface CheckpointedRoundsParams {
  values: number[];
  rounds: number;
  every: number;
  slices: number;
}

/** Plain JS of one run: the values after each round (order unspecified). */
export function checkpointedRoundsReference(
  p: Pick<CheckpointedRoundsParams, 'values' | 'rounds'>,
): number[][] {
  const out: number[][] = [];
  let values = p.values;
  for (let round = 1; round <= p.rounds; round++) {
    const sums = new Map<number, number>();
    for (const v of values) sums.set(Math.abs(v) % 5, (sums.get(Math.abs(v) % 5) ?? 0) + v + round);
    values = [...sums.values()];
    out.push(values);
  }
  return out;
}

export default defineJob((ctx, p: CheckpointedRoundsParams) => {
  const sourced = ctx.accumulator('sourced', 0);
  let values = ctx.parallelize(p.values, p.slices).map((v) => {
    sourced.add(1);
    return v;
  });
  const actions: Record<string, ReturnType<typeof values.count> | ReturnType<typeof values.collect>> = {};
  for (let round = 1; round <= p.rounds; round++) {
    values = values
      .map((v) => [Math.abs(v) % 5, v + round] as [number, number])
      .reduceByKey((a, b) => a + b, 2)
      .values();
    if (round % p.every === 0) {
      values.checkpoint();
      actions[`round${round}`] = values.count();
    }
  }
  actions.final = values.collect();
  return actions;
});
