/** Saves rows as CSV with a header (fields needing quotes included). */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { n: number; output: string }) =>
  ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => ({
        id: i,
        name: i % 3 === 0 ? `a "quoted", name ${i}` : `n${i}`,
        ok: i % 2 === 0,
      })),
      3,
    )
    .saveAsCsv(p.output, { columns: ['id', 'name', 'ok'], header: true }),
);
