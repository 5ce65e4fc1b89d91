/**
 * A driver script: runs the PageRank job (pagerank.ts) repeatedly, feeding each iteration's
 * ranks into the next, until no rank moves by more than `tolerance` (or `maxIterations`).
 * Control flow between jobs lives here, in plain TypeScript, as in a Spark driver program.
 *
 *   stratus run examples/pagerank-driver.ts --param pages=200
 */
import { defineDriverScript } from 'stratus/driver';
import pagerank from './pagerank.js';

export interface PageRankDriverParams {
  pages: number;
  maxLinks?: number;
  seed?: number;
  tolerance?: number;
  maxIterations?: number;
}

export default defineDriverScript(async (driver, p: PageRankDriverParams) => {
  const tolerance = p.tolerance ?? 1e-4;
  const maxIterations = p.maxIterations ?? 50;
  let ranks: [number, number][] | undefined;
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const next = await driver.run(pagerank, {
      pages: p.pages,
      ...(p.maxLinks !== undefined ? { maxLinks: p.maxLinks } : {}),
      ...(p.seed !== undefined ? { seed: p.seed } : {}),
      ...(ranks ? { ranks } : {}),
    });
    const before = new Map(ranks ?? []);
    const delta = Math.max(...next.map(([page, rank]) => Math.abs(rank - (before.get(page) ?? 1))));
    ranks = next;
    process.stderr.write(`pagerank: iteration ${iteration}, largest change ${delta.toExponential(2)}\n`);
    if (delta < tolerance) return { iterations: iteration, converged: true, top: topPages(ranks) };
  }
  return { iterations: maxIterations, converged: false, top: topPages(ranks ?? []) };
});

function topPages(ranks: [number, number][]): [number, number][] {
  return [...ranks].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 10);
}
