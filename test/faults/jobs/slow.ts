/** Tasks that hold their slot for `ms` milliseconds each, then return their partition's sum. */
import { defineJob } from 'stratus';

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // hold the slot
  }
}

export default defineJob((ctx, p: { tasks: number; ms: number }) =>
  ctx
    .parallelize(
      Array.from({ length: p.tasks }, (_, i) => i),
      p.tasks,
    )
    .map((i) => {
      busyWait(p.ms);
      return i;
    })
    .reduce((a, b) => a + b),
);
