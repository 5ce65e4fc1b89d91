/**
 * A shuffle whose map stage has a retry and a straggler: partition `failOnce` fails its first
 * delivery (the queue retries it), and the first attempt of partition 0 to run sleeps `slowMs`
 * (so it gets a speculative copy, which wins) and then creates `<markers>/straggler-done` —
 * after which the executor still writes its map output, late. Returns the sums of i by i % 3.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineJob } from 'stratus';
import { firstToArrive } from '../../helpers/task-markers.js';

export default defineJob((ctx, p: { tasks: number; slowMs: number; failOnce: number; markers: string }) =>
  ctx
    .parallelize(
      Array.from({ length: p.tasks }, (_, i) => i),
      p.tasks,
    )
    .map((i) => {
      if (i === p.failOnce && firstToArrive(path.join(p.markers, 'failed-once'))) {
        throw new Error(`partition ${i} fails its first delivery`);
      }
      if (i === 0 && firstToArrive(path.join(p.markers, 'straggler-started'))) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, p.slowMs);
        writeFileSync(path.join(p.markers, 'straggler-done'), '');
      }
      return [i % 3, i] as [number, number];
    })
    .reduceByKey((a, b) => a + b, 2)
    .collect(),
);
