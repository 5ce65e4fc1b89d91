/** Reads a written folder back (Hive partition discovery) and collects it. */
import { defineJob } from 'stratus';

export default defineJob(
  (ctx, p: { path: string; format: 'parquet' | 'csv' | 'json'; schema?: string; header?: boolean }) => {
    const df =
      p.format === 'parquet'
        ? ctx.read.parquet(p.path)
        : p.format === 'csv'
          ? ctx.read.csv(p.path, {
              header: p.header ?? false,
              ...(p.schema ? { schema: p.schema } : { inferSchema: true }),
            })
          : ctx.read.json(p.path, p.schema ? { schema: p.schema } : {});
    return { rows: df.collect(), schema: df.schema };
  },
);
