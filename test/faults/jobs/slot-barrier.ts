/**
 * A job that needs `tasks` slots at the same time: each task marks its arrival in `dir` and
 * waits (up to `timeoutMs`) until every task has arrived, then returns whether they all did.
 * On a fabric with exactly `tasks` slots it answers all-true only if no slot is held by
 * anything else.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineJob } from 'stratus';
import { blockUntil } from '../../helpers/task-markers.js';

export default defineJob((ctx, p: { tasks: number; dir: string; timeoutMs: number }) =>
  ctx
    .parallelize(
      Array.from({ length: p.tasks }, (_, i) => i),
      p.tasks,
    )
    .map((i) => {
      writeFileSync(path.join(p.dir, `arrived-${i}`), '');
      const arrived = () => readdirSync(p.dir).filter((name) => name.startsWith('arrived-')).length;
      return blockUntil(() => arrived() >= p.tasks, p.timeoutMs, 20);
    })
    .collect(),
);
