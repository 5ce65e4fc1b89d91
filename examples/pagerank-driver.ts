/**
 * A driver script in the shape of Spark's PageRank: the link graph is partitioned once
 * (pagerank-links.ts), then each iteration (pagerank.ts) joins the ranks to it and returns the
 * new ranks as a dataset handle, and its accumulator the largest change of the iteration, in one
 * job. Ranks never pass through the driver — only that change does, to decide when to stop — and
 * the top pages are read at the end.
 *
 *   stratus run examples/pagerank-driver.ts --param pages=200
 */
import { defineDriverScript } from 'stratus/driver';
import pagerank from './pagerank.js';
import pagerankLinks from './pagerank-links.js';
import pagerankTop from './pagerank-top.js';

export interface PageRankDriverParams {
  /** Generate this many pages (ignored with `input`). */
  pages?: number;
  /** Edge list `src dst` per line (a local file or az:// blob) instead of generated pages. */
  input?: string;
  maxLinks?: number;
  seed?: number;
  partitions?: number;
  /** Stop once no rank moves by more than this (default 1e-4)… */
  tolerance?: number;
  /** …or after this many iterations (default 50). */
  maxIterations?: number;
}

export default defineDriverScript(async (driver, p: PageRankDriverParams) => {
  const tolerance = p.tolerance ?? 1e-4;
  const maxIterations = p.maxIterations ?? 50;
  const partitions = p.partitions ?? driver.totalSlots;
  let { links, ranks } = await driver.run(pagerankLinks, {
    ...(p.input !== undefined ? { input: p.input } : { pages: p.pages ?? 1000 }),
    ...(p.maxLinks !== undefined ? { maxLinks: p.maxLinks } : {}),
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    partitions,
  });
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations && !converged) {
    // One job per iteration: it stores the new ranks and its accumulator gathers the largest change.
    const step = await driver.runWithReport(pagerank, { links, ranks, partitions });
    ranks = step.results.ranks;
    const change = step.accumulators.change as number;
    iterations++;
    converged = change < tolerance;
    process.stderr.write(`pagerank: iteration ${iterations}, largest change ${change.toExponential(2)}\n`);
  }
  const top = await driver.run(pagerankTop, { ranks, n: 10 });
  return { iterations, converged, pages: links.records, top };
});
