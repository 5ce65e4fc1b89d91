/**
 * One PageRank iteration over a file of `src dst` links, as Spark's example, in fixed point:
 * ranks are integers (1.0 = SCALE), a page gives floor(rank / out-degree) to each target and a
 * new rank is 0.15 × SCALE + floor(0.85 × contributions). Integer sums do not depend on the
 * order a shuffle delivers them in, so every run — and a plain-JS reference — gives exactly the
 * same ranks. Pages without in-links drop out, as in Spark's example.
 */
import { defineJob } from 'stratus';

/** Fixed-point scale: a rank of 1.0. */
export const SCALE = 1_000_000;

export interface PageRankFileParams {
  links: string;
  /** Current [page, rank] pairs; absent on the first iteration (every page SCALE). */
  ranks?: [number, number][];
  partitions?: number;
}

export default defineJob((ctx, p: PageRankFileParams) => {
  const links = ctx
    .textFile(p.links)
    .map((line) => {
      const [src, dst] = line.split(' ');
      return [Number(src), Number(dst)] as [number, number];
    })
    .groupByKey(p.partitions);
  const ranks = p.ranks ? ctx.parallelize(p.ranks, p.partitions) : links.mapValues(() => SCALE);
  return links
    .join(ranks, p.partitions)
    .flatMap(([, [targets, rank]]) =>
      targets.map((dst) => [dst, Math.floor(rank / targets.length)] as [number, number]),
    )
    .reduceByKey((a, b) => a + b, p.partitions)
    .mapValues((sum) => (15 * SCALE) / 100 + Math.floor((85 * sum) / 100))
    .collect();
});
