/**
 * An iterative driver script: runs pagerank-file.ts, feeding each iteration's ranks into the
 * next, until no rank moves by more than `tolerance` (fixed-point units) or `maxIterations`.
 */
import { defineDriverScript } from 'stratus/driver';
import pagerank from './pagerank-file.js';

export default defineDriverScript(
  async (driver, p: { links: string; tolerance: number; maxIterations: number; partitions?: number }) => {
    let ranks: [number, number][] | undefined;
    for (let iteration = 1; iteration <= p.maxIterations; iteration++) {
      // The collected ranks come partition by partition; sorting a few pages is the driver's job.
      const next = (
        await driver.run(pagerank, {
          links: p.links,
          ...(ranks ? { ranks } : {}),
          ...(p.partitions ? { partitions: p.partitions } : {}),
        })
      ).sort((a, b) => a[0] - b[0]);
      const before = new Map(ranks ?? []);
      const delta = Math.max(0, ...next.map(([page, rank]) => Math.abs(rank - (before.get(page) ?? 0))));
      ranks = next;
      if (delta <= p.tolerance) return { iterations: iteration, converged: true, ranks };
    }
    return { iterations: p.maxIterations, converged: false, ranks: ranks ?? [] };
  },
);
