/**
 * One PageRank iteration, as in Spark's classic example: each page splits its rank evenly among
 * the pages it links to; a page's new rank is 0.15 + 0.85 × the contributions it receives.
 *
 * `links` and `ranks` are dataset handles (pagerank-links.ts, or the previous iteration), both
 * hash-partitioned into `partitions`: the join reads them partition by partition with no shuffle,
 * and the only shuffle is the one that sums contributions by page. The new ranks go back to the
 * driver script as a handle; what does pass through the driver is one number, the largest change,
 * gathered by an accumulator (Spark's custom AccumulatorV2, merged by max) in the same last stage
 * that stores the new ranks: the new and the previous ranks are partitioned alike, so comparing
 * them is a narrow join, and an iteration is one job of two stages.
 */
import { type DatasetHandle, defineJob } from 'stratus';

export interface PageRankParams {
  links: DatasetHandle<[number, number[]]>;
  ranks: DatasetHandle<[number, number]>;
  /** The partition count of `links` and `ranks` (as pagerank-links.ts made them). */
  partitions: number;
}

export default defineJob((ctx, p: PageRankParams) => {
  const links = ctx.fromHandle(p.links);
  const ranks = ctx.fromHandle(p.ranks);
  // The largest |new rank − previous rank| of any page (a page new to the ranks had rank 1).
  const change = ctx.accumulator('change', 0, Math.max);
  const contributions = links
    .join(ranks, p.partitions)
    .values()
    .flatMap(([targets, rank]) => targets.map((dst) => [dst, rank / targets.length] as [number, number]));
  const next = contributions
    .reduceByKey((a, b) => a + b, p.partitions)
    .mapValues((sum) => 0.15 + 0.85 * sum)
    .leftOuterJoin(ranks, p.partitions)
    .mapValues(([rank, before]) => {
      change.add(Math.abs(rank - (before ?? 1)));
      return rank;
    });
  return { ranks: next.handle() };
});
