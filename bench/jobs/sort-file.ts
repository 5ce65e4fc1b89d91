/**
 * The sort bench's job: 100-byte text records (10-byte key first) from a file, sorted by key
 * into range partitions (a hidden sampling job finds the bounds) and saved to `output`.
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { input: string; output: string; partitions: number }) => ({
  saved: ctx
    .textFile(p.input)
    .sortBy((record) => record.slice(0, 10), true, p.partitions)
    .saveAsTextFile(p.output),
}));
