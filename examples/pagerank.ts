/**
 * One PageRank iteration, as in Spark's classic example: each page splits its rank evenly among
 * the pages it links to; a page's new rank is 0.15 + 0.85 × the contributions it receives.
 *
 * `links` and `ranks` are dataset handles (pagerank-links.ts, or the previous iteration), both
 * hash-partitioned into `partitions`: the join reads them partition by partition with no shuffle,
 * and the only shuffle is the one that sums contributions by page. The new ranks go back to the
 * driver script as a handle; what does pass through the driver is one number, the largest change.
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
  const contributions = links
    .join(ranks, p.partitions)
    .values()
    .flatMap(([targets, rank]) => targets.map((dst) => [dst, rank / targets.length] as [number, number]));
  const next = contributions.reduceByKey((a, b) => a + b, p.partitions).mapValues((sum) => 0.15 + 0.85 * sum);
  // Named actions run in this order: the handle's job stores `next`, the change reads it back.
  return {
    ranks: next.handle(),
    change: next
      .leftOuterJoin(ranks, p.partitions)
      .values()
      .map(([rank, before]) => Math.abs(rank - (before ?? 1)))
      .fold(0, Math.max),
  };
});
