/**
 * A global sort of a text file: `key<TAB>id` lines sorted by key, then id, into `partitions`
 * range partitions (bounds from a hidden sampling job, as in Spark), collected in order.
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { input: string; partitions: number }) =>
  ctx
    .textFile(p.input)
    .map((line) => {
      const tab = line.indexOf('\t');
      return [line.slice(0, tab), Number(line.slice(tab + 1))] as [string, number];
    })
    .sortBy(([key, id]) => [key, id], true, p.partitions)
    .collect(),
);
