/**
 * Tasks that hold their slot for `ms` milliseconds each without using the CPU (Atomics.wait in
 * the task thread), then return their partition's sum. With `markers`, each task first creates
 * `<markers>/ran-<partition>`, so a test can tell which tasks ran at all.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineJob } from 'stratus';

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export default defineJob((ctx, p: { tasks: number; ms: number; markers?: string }) =>
  ctx
    .parallelize(
      Array.from({ length: p.tasks }, (_, i) => i),
      p.tasks,
    )
    .map((i) => {
      if (p.markers !== undefined) writeFileSync(path.join(p.markers, `ran-${i}`), '');
      sleep(p.ms);
      return i;
    })
    .reduce((a, b) => a + b),
);
