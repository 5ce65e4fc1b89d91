/**
 * How whole-file sources (`wholeTextFiles`, `binaryFiles`) are cut into partitions — Spark's
 * CombineFileInputFormat as its WholeTextFileInputFormat uses it: files are never split, and
 * neighbouring files (in name order) are packed together until a partition holds about
 * `total / minPartitions` bytes, at most `maxPartitionBytes`; a file larger than that is a
 * partition of its own. When packing by bytes gives fewer than min(minPartitions, files)
 * partitions (one large file next to many small ones), files are first grouped by count into
 * that many runs, each then packed by bytes, so the hint is met. Empty files count: each is a record (with empty content). Pure, shared by
 * the driver (driver/data/whole-file-inputs.ts), explain and the in-memory runner.
 */

/** Default upper bound of one whole-file partition (bytes), as for line splits (32 MiB). */
export const DEFAULT_WHOLE_FILE_PARTITION_BYTES = 32 * 1024 * 1024;

/**
 * Partitions of `sizes` (file sizes in order): each a list of file indexes, consecutive and in
 * order; every file in exactly one partition; none empty. No files, no partitions.
 */
export function packWholeFiles(
  sizes: readonly number[],
  minPartitions: number,
  maxPartitionBytes = DEFAULT_WHOLE_FILE_PARTITION_BYTES,
): number[][] {
  if (sizes.length === 0) return [];
  const total = sizes.reduce((sum, s) => sum + s, 0);
  const wanted = Math.max(1, Math.min(minPartitions, sizes.length));
  const goal = Math.max(1, Math.min(maxPartitionBytes, Math.ceil(total / wanted)));
  /** Greedy by bytes over files [from, to). */
  const pack = (from: number, to: number, out: number[][]) => {
    let current: number[] = [];
    let bytes = 0;
    for (let i = from; i < to; i++) {
      const size = sizes[i]!;
      if (current.length > 0 && bytes + size > goal) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(i);
      bytes += size;
    }
    if (current.length > 0) out.push(current);
    return out;
  };
  const byBytes = pack(0, sizes.length, []);
  if (byBytes.length >= wanted) return byBytes;
  // Lumpy sizes: first `wanted` runs of files by count, then by bytes within each run.
  const out: number[][] = [];
  for (let g = 0; g < wanted; g++) {
    pack(Math.floor((g * sizes.length) / wanted), Math.floor(((g + 1) * sizes.length) / wanted), out);
  }
  return out;
}
