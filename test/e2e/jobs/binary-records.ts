/**
 * binaryFiles records through the record codec: the [path, bytes] records are persisted (their
 * partitions encoded into blobs or executor memory) and the bytes are shuffled by a groupByKey,
 * then turned into hex strings for the result. Needs a codec that carries Uint8Array values.
 */
import { defineJob } from 'stratus';

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export default defineJob((ctx, p: { input: string; level: 'blob' | 'memory' | 'disk' }) => {
  const files = ctx.binaryFiles(p.input, 2).persist(p.level);
  return {
    sizes: files.map(([path, bytes]) => [path, bytes.length] as [string, number]).collect(),
    byExtension: files
      .map(([path, bytes]) => [path.slice(path.lastIndexOf('.') + 1), bytes] as [string, Uint8Array])
      .groupByKey(2)
      .mapValues((all) => all.map(hex).sort())
      .collect(),
  };
});
