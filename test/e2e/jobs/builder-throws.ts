/** A builder that throws while building its plan. */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { input?: string }) => {
  if (!p.input) throw new Error('params.input is required');
  return ctx.textFile(p.input).count();
});
