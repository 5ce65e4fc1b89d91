/**
 * PageRank, step 0: the link graph, partitioned once. Spark's classic example starts with
 * `links = lines.map(parse).distinct().groupByKey().cache()` and `ranks = links.mapValues(1.0)`;
 * here both are handed to the driver script as dataset handles — the data stays in Blob Storage,
 * partitioned by page, and every iteration (pagerank.ts) joins them without shuffling the links.
 *
 * The edges come from `input` (text lines `src dst`, a local file or az:// blob), or are
 * generated: `pages` pages with 1–`maxLinks` links each (examples/lib/generate.ts).
 */
import { defineJob, type JobContext } from 'stratus';
import { linksOfPage } from './lib/generate.js';

export interface PageRankLinksParams {
  /** Edge list: one `src dst` line per link. */
  input?: string;
  /** Without `input`: generate this many pages… */
  pages?: number;
  /** …with at most this many links each (default 8)… */
  maxLinks?: number;
  /** …from this seed (default 3). */
  seed?: number;
  /** Partitions of the link graph and of the ranks (default: the fabric's slots). */
  partitions?: number;
}

export default defineJob((ctx, p: PageRankLinksParams) => {
  const n = p.partitions ?? ctx.defaultParallelism;
  const edges = p.input !== undefined ? ctx.textFile(p.input).flatMap(parseEdge) : generatedEdges(ctx, p, n);
  const links = edges.distinct(n).groupByKey(n);
  const ranks = links.mapValues(() => 1.0);
  return { links: links.handle(), ranks: ranks.handle() };
});

function parseEdge(line: string): [number, number][] {
  const [src, dst] = line.trim().split(/\s+/);
  return src && dst ? [[Number(src), Number(dst)]] : [];
}

/** The generated graph: page ranges are the parallelized records, each task makes its pages' links. */
function generatedEdges(ctx: JobContext, p: PageRankLinksParams, n: number) {
  const pages = p.pages ?? 1000;
  const slices = Array.from({ length: n }, (_, i): [number, number] => [
    Math.floor((i * pages) / n),
    Math.floor(((i + 1) * pages) / n),
  ]);
  return ctx.parallelize(slices, n).flatMap(([from, to]) => {
    const out: [number, number][] = [];
    for (let page = from; page < to; page++)
      for (const dst of linksOfPage(page, pages, p.maxLinks ?? 8, p.seed ?? 3)) out.push([page, dst]);
    return out;
  });
}
