/** A user function that throws on one record. */
import { defineJob } from 'stratus';

function checkRecord(i: number): number {
  if (i === 13) throw new Error(`unlucky record ${i}`);
  return i;
}

export default defineJob((ctx) =>
  ctx
    .parallelize(
      Array.from({ length: 40 }, (_, i) => i),
      4,
    )
    .map(checkRecord)
    .count(),
);
