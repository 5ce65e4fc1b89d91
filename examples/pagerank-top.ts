/** The `n` highest ranks of a PageRank ranks handle (ties by page id), for the driver to print. */
import { type DatasetHandle, defineJob } from 'stratus';

export default defineJob((ctx, p: { ranks: DatasetHandle<[number, number]>; n?: number }) =>
  ctx.fromHandle(p.ranks).takeOrdered(p.n ?? 10, ([page, rank]) => [-rank, page]),
);
