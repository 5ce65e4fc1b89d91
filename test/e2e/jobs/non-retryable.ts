/**
 * A user function that throws NonRetryableError on one record; every execution that reaches it
 * first leaves a marker file of its own in `markers`, so a test counts the executions.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineJob, NonRetryableError } from 'stratus';

export default defineJob((ctx, p: { markers: string }) => {
  function rejectRecord(i: number): number {
    if (i === 13) {
      writeFileSync(path.join(p.markers, `execution-${randomUUID()}`), '');
      throw new NonRetryableError(`record ${i} cannot be processed`);
    }
    return i;
  }
  return ctx
    .parallelize(
      Array.from({ length: 40 }, (_, i) => i),
      4,
    )
    .map(rejectRecord)
    .count();
});
