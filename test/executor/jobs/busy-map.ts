/**
 * One task whose map is CPU-bound on every record, as a heavy user computation is: the first
 * delivery to arrive burns `spinMs` of wall-clock time per record (so a batch of 1,024 records
 * takes about a second at 1 ms, however loaded the machine: a record that started late catches
 * up) and creates `<dir>/mapping` as it starts; a later delivery runs at full speed. The answer
 * is the sum of 2·i over `records` records.
 */
import path from 'node:path';
import { defineJob } from 'stratus';
import { firstToArrive } from '../../helpers/task-markers.js';

/** Decided once per task thread, at its first record: when the spinning began, if it spins. */
let spinningSince: number | null | undefined;
let spun = 0;

/** Burn CPU until `spinMs` × the records mapped so far has passed since the first one. */
function spin(spinMs: number): void {
  spun++;
  const until = (spinningSince ?? 0) + spun * spinMs;
  while (performance.now() < until) {
    // burn the thread's CPU, as a long computation would
  }
}

export default defineJob((ctx, p: { records: number; spinMs: number; dir: string }) =>
  ctx
    .parallelize(
      Array.from({ length: p.records }, (_, i) => i),
      1,
    )
    .map((i) => {
      if (spinningSince === undefined) {
        spinningSince = firstToArrive(path.join(p.dir, 'mapping')) ? performance.now() : null;
      }
      if (spinningSince !== null) spin(p.spinMs);
      return i * 2;
    })
    .reduce((a, b) => a + b),
);
