/** A map whose records the codec cannot encode (BigInt). */
import { defineJob } from 'stratus';

export default defineJob((ctx) =>
  ctx
    .parallelize([1, 2, 3], 1)
    .map((i) => [i, BigInt(i)] as [number, unknown])
    .groupByKey(2)
    .count(),
);
