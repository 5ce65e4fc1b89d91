/**
 * Sums by key where every map execution pads its records with a random amount of filler, so
 * two executions of one map task write map outputs of different sizes. With `barrierDir`, each
 * map execution waits until `executionsPerTask` executions of its task are running at once (a
 * file per execution in that folder), which proves duplicate deliveries overlapped.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineJob } from 'stratus';
import { blockUntil } from '../../helpers/task-markers.js';

export interface PaddedGroupsParams {
  n: number;
  partitions: number;
  barrierDir?: string;
  executionsPerTask?: number;
}

function awaitPeers(dir: string, partition: number, executions: number): void {
  writeFileSync(path.join(dir, `${partition}-${randomBytes(4).toString('hex')}`), '');
  const running = () => readdirSync(dir).filter((f) => f.startsWith(`${partition}-`)).length;
  if (!blockUntil(() => running() >= executions, 30_000, 10))
    throw new Error(`map ${partition}: fewer than ${executions} executions ran at once`);
}

export default defineJob((ctx, p: PaddedGroupsParams) =>
  ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => i),
      p.partitions,
    )
    .mapPartitions((values, partition) => {
      if (p.barrierDir) awaitPeers(p.barrierDir, partition, p.executionsPerTask ?? 2);
      return values.map(
        (v) =>
          [`k${v % 7}`, { v, pad: 'x'.repeat(Math.floor(Math.random() * 40)) }] as [
            string,
            { v: number; pad: string },
          ],
      );
    })
    .groupByKey(2)
    .mapValues((records) => records.reduce((sum, r) => sum + r.v, 0))
    .collect(),
);
