/**
 * groupByKey over `key,value` lines where one key holds most records (a skewed join key, a
 * default bucket): each key's group of value texts summarised as [count, sum, min, max],
 * sorted by key.
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { input: string; partitions?: number }) =>
  ctx
    .textFile(p.input)
    .map((line) => {
      const comma = line.indexOf(',');
      return [line.slice(0, comma), line.slice(comma + 1)] as [string, string];
    })
    .groupByKey(p.partitions)
    .mapValues((texts) => {
      let sum = 0;
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const text of texts) {
        const v = Number(text);
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      return [texts.length, sum, min, max] as [number, number, number, number];
    })
    .sortByKey(true, 1)
    .collect(),
);
