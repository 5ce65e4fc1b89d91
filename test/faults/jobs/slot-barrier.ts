/**
 * A job that needs `tasks` slots at the same time: each task marks its arrival in `dir` and
 * waits (up to `timeoutMs`) until every task has arrived, then returns whether they all did.
 * On a fabric with exactly `tasks` slots it answers all-true only if no slot is held by
 * anything else.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineJob } from 'stratus';

const pause = new Int32Array(new SharedArrayBuffer(4));

export default defineJob((ctx, p: { tasks: number; dir: string; timeoutMs: number }) =>
  ctx
    .parallelize(
      Array.from({ length: p.tasks }, (_, i) => i),
      p.tasks,
    )
    .map((i) => {
      writeFileSync(path.join(p.dir, `arrived-${i}`), '');
      const deadline = Date.now() + p.timeoutMs;
      while (Date.now() < deadline) {
        if (readdirSync(p.dir).filter((name) => name.startsWith('arrived-')).length >= p.tasks) return true;
        Atomics.wait(pause, 0, 0, 20); // a task thread may block; it keeps the slot and spares the CPU
      }
      return false;
    })
    .collect(),
);
