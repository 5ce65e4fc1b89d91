/**
 * One large Parquet partition through both sides of the Dataset ⇄ DataFrame bridge: `df.rdd()`
 * gives its rows to a Dataset map, whose records `toDF` makes a DataFrame again for SQL to
 * aggregate by bucket.
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { file: string }) => {
  ctx.read
    .parquet(p.file)
    .rdd()
    .map((r) => ({
      id: r.id as number,
      name_len: (r.name as string).length,
      amount: (r.amount as number) * 2,
      bucket: (r.id as number) % 7,
    }))
    .toDF('id LONG, name_len INT, amount DOUBLE, bucket INT')
    .createOrReplaceTempView('rows');
  return ctx
    .sql(
      `SELECT bucket, count(*) AS n, sum(id) AS ids, sum(name_len) AS lens, sum(amount) AS amount, max(id) AS last
       FROM rows GROUP BY bucket ORDER BY bucket`,
    )
    .collect();
});
