/**
 * Whole-file input formats — Spark's `wholeTextFiles` and `binaryFiles`: one record per file,
 * `[path, content]`, a file never cut between partitions (engine/plan/whole-file-partitions.ts
 * packs whole files into partitions). TaskIO.readSource yields, for each file of the partition,
 * a SourceSplitStart marker naming it and then its bytes in chunks; this module gathers the
 * chunks of each file into its record. `wholeTextFiles` decodes UTF-8 (a BOM at the start is
 * dropped, as textFile drops it; gzip files arrive decompressed), `binaryFiles` gives the
 * bytes as they are in a plain Uint8Array (never decompressed). An empty file is a record
 * with empty content. A partition given without markers (the in-memory runner's plain text)
 * is one file named after the source.
 */
import { isSplitStart } from './record-formats.js';

/** The whole-file formats: text (`wholeTextFiles`) and bytes (`binaryFiles`). */
export type WholeFileFormat = 'whole-text' | 'binary';

/** True for the formats whose records are whole files. */
export function isWholeFileFormat(format: string): format is WholeFileFormat {
  return format === 'whole-text' || format === 'binary';
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  // A plain Uint8Array (not a Buffer): the record value binaryFiles documents.
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * The `[path, content]` records of one partition's files, in order, in batches of at most
 * `batchSize`. `onBytes` counts the bytes read. A file's content is held whole (a record is the
 * file), as in Spark.
 */
export async function* wholeFileRecords(
  items: AsyncIterable<unknown>,
  format: WholeFileFormat,
  defaultFile: string,
  batchSize: number,
  onBytes: (n: number) => void,
): AsyncGenerator<unknown[]> {
  let file: string | undefined;
  let chunks: Uint8Array[] = [];
  let length = 0;
  let batch: unknown[] = [];
  const record = (): [string, string | Uint8Array] => {
    const bytes = concat(chunks, length);
    const content = format === 'binary' ? bytes : new TextDecoder('utf-8').decode(bytes);
    return [file!, content];
  };
  for await (const item of items) {
    if (isSplitStart(item)) {
      if (file !== undefined) batch.push(record());
      file = item.file;
      chunks = [];
      length = 0;
    } else if (item instanceof Uint8Array) {
      file ??= defaultFile;
      onBytes(item.byteLength);
      chunks.push(item);
      length += item.byteLength;
    } else if (typeof item === 'string') {
      file ??= defaultFile;
      const bytes = new TextEncoder().encode(item);
      chunks.push(bytes);
      length += bytes.byteLength;
    } else {
      throw new Error('internal: TaskIO.readSource must yield split markers, strings or Buffers');
    }
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (file !== undefined) batch.push(record());
  if (batch.length > 0) yield batch;
}
