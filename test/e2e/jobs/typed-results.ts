/** Results holding every value type JSON cannot, for `stratus run --json`; `since` comes as a tagged --param. */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { since: Date }) => ({
  values: ctx
    .parallelize([0, 1], 2)
    .map((i) => ({
      i,
      since: p.since,
      big: 2n ** 70n + BigInt(i),
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      negZero: -0,
      nothing: undefined,
      bytes: Buffer.from([i, 1]),
      tags: new Set(['a']),
      index: new Map<unknown, unknown>([[1n, new Date(0)]]),
      $date: 'not a tag',
    }))
    .collect(),
  count: ctx.parallelize([1, 2, 3], 1).count(),
}));
