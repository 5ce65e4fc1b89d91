/** A collect whose partials are far too large to travel inline in events. */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { n: number }) =>
  ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => i),
      3,
    )
    .map((i) => `record-${i}-${'z'.repeat(20)}`)
    .collect(),
);
