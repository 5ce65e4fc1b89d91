/**
 * A chain of small shuffles for the stage-latency bench: `shuffles` reduceByKey stages one
 * after the other on a little data, each task holding its slot for `taskMs` (so executors and
 * driver are in their steady polling state, as in a real job, when a stage ends).
 */
import { defineJob } from 'stratus';

function hold(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy, as real work would be
  }
}

export default defineJob(
  (ctx, p: { shuffles: number; partitions: number; records: number; taskMs?: number }) => {
    const work = <T>(records: T[]): T[] => {
      hold(p.taskMs ?? 0);
      return records;
    };
    let pairs = ctx
      .parallelize(
        Array.from({ length: p.records }, (_, i) => i),
        p.partitions,
      )
      .mapPartitions(work)
      .map((i) => [i % 97, 1] as [number, number]);
    for (let s = 0; s < p.shuffles; s++) {
      pairs = pairs
        .reduceByKey((a, b) => a + b, p.partitions)
        .mapPartitions(work)
        .map(([k, v]) => [(k * 31 + s) % 97, v] as [number, number]);
    }
    return pairs.values().reduce((a, b) => a + b);
  },
);
