/**
 * One straggler: the first attempt of partition 0 to run creates `marker` and then runs for
 * `slowMs`; every other attempt (a speculative copy included) finishes at once.
 */
import { defineJob } from 'stratus';
import { firstToArrive } from '../../helpers/task-markers.js';

export default defineJob((ctx, p: { tasks: number; slowMs: number; marker: string }) =>
  ctx
    .parallelize(
      Array.from({ length: p.tasks }, (_, i) => i),
      p.tasks,
    )
    .map((i) => {
      if (i === 0 && firstToArrive(p.marker)) {
        const end = Date.now() + p.slowMs;
        while (Date.now() < end) {
          // straggle
        }
      }
      return i * 10;
    })
    .collect(),
);
