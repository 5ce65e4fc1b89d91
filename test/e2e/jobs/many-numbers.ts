/** Sort n numbers descending and collect them all: a large `--json` result (n = 100,000 ≈ 0.6 MB). */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { n: number }) =>
  ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => i),
      4,
    )
    .sortBy((x) => -x)
    .collect(),
);
