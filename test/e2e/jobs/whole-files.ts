/** wholeTextFiles and binaryFiles over the same files: text as it is, bytes as numbers (no codec needed). */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { input: string; minPartitions?: number }) => ({
  text: ctx.wholeTextFiles(p.input, p.minPartitions).collect(),
  bytes: ctx
    .binaryFiles(p.input, p.minPartitions)
    .map(([path, bytes]) => [path, bytes.constructor.name, Array.from(bytes)] as [string, string, number[]])
    .collect(),
}));
