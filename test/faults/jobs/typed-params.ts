/** A job module that declares its params with a zod schema: `records` is required, `step` defaults to 1. */
import { defineJob } from 'stratus';
import { z } from 'zod';

export default defineJob(
  {
    params: z.object({
      records: z.number().int().positive(),
      step: z.number().int().default(1),
      label: z.string().optional(),
    }),
  },
  (ctx, p) =>
    ctx
      .parallelize(
        Array.from({ length: p.records }, (_, i) => i * p.step),
        2,
      )
      .reduce((a, b) => a + b),
);
