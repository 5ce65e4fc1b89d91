/**
 * Word count — the first job a Spark user runs. Reads text files, splits lines into
 * lower-case words, counts each word with a shuffle (reduceByKey, combined map-side),
 * and returns the ten most frequent words and the number of distinct words.
 *
 *   stratus run examples/wordcount.ts --param input='examples/data/*.txt'
 */
import { defineJob } from 'stratus';

export interface WordCountParams {
  /** A file, folder glob or az:// path of text files. */
  input: string;
  /** How many of the most frequent words to return (default 10). */
  top?: number;
  /** Partitions of the shuffle (default: the total slots). */
  partitions?: number;
}

export default defineJob((ctx, p: WordCountParams) => {
  const counts = ctx
    .textFile(p.input)
    .flatMap((line) => line.toLowerCase().split(/[^\p{L}\p{N}']+/u))
    .filter((word) => word.length > 0)
    .map((word) => [word, 1] as [string, number])
    .reduceByKey((a, b) => a + b, p.partitions);
  return {
    // Most frequent first; ties broken alphabetically, so the answer is deterministic.
    top: counts.sortBy(([word, n]) => [-n, word]).take(p.top ?? 10),
    distinct: counts.count(),
  };
});
