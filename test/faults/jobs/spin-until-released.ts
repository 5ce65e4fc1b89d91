/**
 * Tasks that spin until told otherwise. A spinning task burns its thread's CPU and writes its
 * progress (a counter) to `<dir>/progress-<partition>` about every 20 ms until `<dir>/release`
 * exists; any other task returns at once. `spin: 'first'` makes only the first attempt of
 * partition 0 to arrive spin (a straggler whose speculative copy wins), `'all'` every task.
 * A task thread that is terminated stops writing: its progress file freezes.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineJob } from 'stratus';
import { firstToArrive } from '../../helpers/task-markers.js';

function spinUntilReleased(dir: string, partition: number): void {
  const progress = path.join(dir, `progress-${partition}`);
  const release = path.join(dir, 'release');
  for (let count = 1; !existsSync(release); count++) {
    writeFileSync(progress, String(count));
    const until = Date.now() + 20;
    while (Date.now() < until) {
      // burn the thread's CPU, as a long computation would
    }
  }
}

export default defineJob((ctx, p: { tasks: number; spin: 'first' | 'all'; dir: string }) =>
  ctx
    .parallelize(
      Array.from({ length: p.tasks }, (_, i) => i),
      p.tasks,
    )
    .map((i) => {
      const spins = p.spin === 'all' || (i === 0 && firstToArrive(path.join(p.dir, 'first-0')));
      if (spins) spinUntilReleased(p.dir, i);
      return i * 10;
    })
    .collect(),
);
