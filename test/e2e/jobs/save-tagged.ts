/**
 * Saves the numbers 0 … n-1 as text, each line prefixed with a tag drawn once per task
 * execution, so a part file shows whose bytes it holds. With `straggle`, the first execution
 * of partition 0 to run (it creates `marker`) waits until the file `release` exists before
 * it produces anything, so a speculative copy wins and this one writes its part afterwards.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { defineJob } from 'stratus';
import { blockUntil, firstToArrive } from '../../helpers/task-markers.js';

export interface SaveTaggedParams {
  n: number;
  partitions: number;
  output: string;
  straggle?: { marker: string; release: string };
}

/** The line of value `v` (after its execution's tag and a tab). */
export function taggedLine(v: number): string {
  return `${v}\t${'x'.repeat(v % 13)}`;
}

function awaitRelease(file: string): void {
  if (!blockUntil(() => existsSync(file), 60_000, 20)) throw new Error(`straggler: ${file} never appeared`);
}

export default defineJob((ctx, p: SaveTaggedParams) =>
  ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => i),
      p.partitions,
    )
    .mapPartitions((values, partition) => {
      const tag = randomBytes(4).toString('hex');
      if (p.straggle && partition === 0 && firstToArrive(p.straggle.marker)) awaitRelease(p.straggle.release);
      return values.map((v) => `${tag}\t${taggedLine(v)}`);
    })
    .saveAsTextFile(p.output),
);
