/**
 * One PageRank iteration, as in Spark's classic example: each page splits its rank evenly
 * among the pages it links to; a page's new rank is 0.15 + 0.85 × the contributions it
 * receives. The driver script (pagerank-driver.ts) runs it until the ranks converge.
 */
import { defineJob } from 'stratus';
import { generateLinks } from './lib/generate.js';

export interface PageRankParams {
  pages: number;
  maxLinks?: number;
  seed?: number;
  /** Current ranks as [page, rank] pairs; absent on the first iteration (every page 1.0). */
  ranks?: [number, number][];
  partitions?: number;
}

export default defineJob((ctx, p: PageRankParams) => {
  const edges = generateLinks(p.pages, p.maxLinks ?? 8, p.seed ?? 3);
  const links = ctx.parallelize(edges, p.partitions).groupByKey(p.partitions);
  const ranks = p.ranks ? ctx.parallelize(p.ranks, p.partitions) : links.mapValues(() => 1.0);
  const contributions = links
    .join(ranks)
    .flatMap(([, [targets, rank]]) => targets.map((dst) => [dst, rank / targets.length] as [number, number]));
  return contributions
    .reduceByKey((a, b) => a + b, p.partitions)
    .mapValues((sum) => 0.15 + 0.85 * sum)
    .sortByKey(true, 1)
    .collect();
});
