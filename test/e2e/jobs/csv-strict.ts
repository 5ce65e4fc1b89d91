/** Counts the rows of a CSV with a header, failing on a bad row (the default policy). */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { input: string }) => ctx.csv(p.input, { header: true }).count());
