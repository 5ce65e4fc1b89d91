/**
 * Input formats of file sources: how the bytes TaskIO.readSource yields become records.
 * The bytes of a partition arrive split by split; before each split the executor yields a
 * SourceSplitStart marker, so a file that does not end in '\n' never runs into the next one,
 * a bad record is named by its file, its byte offset in the file and (when the split's first
 * line is known) its line, and a CSV header is recognised only where a file begins. A
 * partition given without markers (the in-memory runner, plain strings) is read as one whole
 * file.
 *
 * Bad records (a line that is not JSON, a CSV row that does not parse or convert, a record the
 * source's schema rejects) either
 * fail the task with BadRecordError (`badRecords: 'fail'`, the default, Spark's FAILFAST) or
 * are dropped and counted in the source's accumulator (`'skip'`, Spark's DROPMALFORMED).
 */
import { StratusError } from '../../contract/errors.js';

/** Yielded by TaskIO.readSource before the bytes of each split of a partition. */
export interface SourceSplitStart {
  readonly kind: 'split-start';
  /** The file the user named (a local path or an az:// address), for error messages. */
  readonly file: string;
  /** Byte offset of the split in that file: 0 means the split begins the file (a header, a BOM). */
  readonly offset: number;
  /**
   * Byte offset in the file of the first byte that follows the marker: the first record that
   * starts in the split (a byte-range split skips the partial record it begins in). Absent
   * means `offset`. For gzip files, offsets count decompressed bytes.
   */
  readonly recordsStart?: number | undefined;
  /** The 1-based line number in the file of the first line that follows, when known (see SplitPosition). */
  readonly firstLine?: number | undefined;
  /** CSV column names the driver read from the source's header, for splits that do not begin a file. */
  readonly columns?: readonly string[] | undefined;
}

/** True for the marker TaskIO.readSource yields before a split. */
export function isSplitStart(item: unknown): item is SourceSplitStart {
  return (
    typeof item === 'object' &&
    item !== null &&
    (item as { kind?: unknown }).kind === 'split-start' &&
    typeof (item as { file?: unknown }).file === 'string'
  );
}

/** What to do with a record that does not parse: fail the task (default) or skip and count it. */
export type BadRecordPolicy = 'fail' | 'skip';

/** Where a record is: its file, its byte offset in the file and its line number, each when known. */
export interface RecordPosition {
  /** The input file or blob the record is in. */
  readonly file: string;
  /** Byte offset of the record's first byte in the file (decompressed bytes for gzip). */
  readonly byteOffset: number | undefined;
  /** 1-based line number in the file; unknown in a blob split that does not begin the file. */
  readonly line: number | undefined;
}

/**
 * A bad input record under `badRecords: 'fail'`; the message names the file, the record's
 * byte offset in it, its line when known, and the reason (only the message reaches the driver).
 * Not retryable: the input holds the same record on every attempt.
 */
export class BadRecordError extends StratusError {
  constructor(
    message: string,
    partition: number,
    /** Where the record is (for callers in the same process). */
    readonly position: RecordPosition,
  ) {
    super('BAD_INPUT_RECORD', message, { partition });
    this.name = 'BadRecordError';
  }
}

/** The name of the accumulator counting the records a `badRecords: 'skip'` source dropped. */
export function badRecordsAccumulatorName(uri: string): string {
  return `badRecords:${uri}`;
}

/** The split lines currently come from. */
export interface SplitPosition {
  readonly file: string;
  readonly offset: number;
  readonly columns: readonly string[] | undefined;
  /** False when the partition came without markers: then it is read as one whole file. */
  readonly marked: boolean;
  /**
   * The file's line number of the split's first line: 1 for a split that begins the file, the
   * driver's count for a local file it cut, unknown for a blob split that begins mid-file
   * (counting would mean reading the blob from its start).
   */
  readonly firstLine: number | undefined;
}

/** Lines of one split, in order; `firstLine` is the 1-based number of `lines[0]` within the split. */
export interface LineBatch {
  readonly split: SplitPosition;
  readonly firstLine: number;
  readonly lines: string[];
  /** Byte offset in the file where `lines[index]` starts; undefined when the bytes were not seen (line strings). */
  readonly byteOffset: (index: number) => number | undefined;
}

const stripCr = (s: string) => (s.endsWith('\r') ? s.slice(0, -1) : s);
const NEWLINE = 0x0a;
const unknownOffset = () => undefined;

/** The position in `chunk` just after its `n`-th '\n' (n ≥ 1); only called to name a bad record. */
function afterNthNewline(chunk: Uint8Array, n: number): number {
  let at = -1;
  for (let seen = 0; seen < n; seen++) {
    at = chunk.indexOf(NEWLINE, at + 1);
    if (at < 0) throw new Error(`internal: chunk has fewer than ${n} newlines`);
  }
  return at + 1;
}

/**
 * Cut the items of TaskIO.readSource (markers, Buffer chunks, or ready-made line strings)
 * into batches of lines per split: '\n' ends a line, a '\r' before it is dropped, a last line
 * without '\n' still counts, and a BOM is removed where a file begins. `onBytes` counts bytes.
 * Byte offsets are tracked from the raw bytes, so BOM, '\r' and multi-byte characters cannot
 * skew them; a line's offset is only computed when asked for (to name a bad record).
 */
export async function* lineBatches(
  items: AsyncIterable<unknown>,
  defaultFile: string,
  onBytes: (n: number) => void,
): AsyncGenerator<LineBatch> {
  let split: SplitPosition = {
    file: defaultFile,
    offset: 0,
    columns: undefined,
    marked: false,
    firstLine: 1,
  };
  let decoder = new TextDecoder('utf-8');
  let rest = '';
  let lineNo = 0;
  /** File offset of the next byte of the stream, and of the first byte of `rest`; undefined once unknown. */
  let streamAt: number | undefined = 0;
  let restAt: number | undefined = 0;
  const flush = (): LineBatch | undefined => {
    rest += decoder.decode();
    if (rest.length === 0) return undefined;
    const at = restAt;
    const batch: LineBatch = { split, firstLine: ++lineNo, lines: [stripCr(rest)], byteOffset: () => at };
    rest = '';
    return batch;
  };
  for await (const item of items) {
    if (isSplitStart(item)) {
      const last = flush();
      if (last) yield last;
      split = {
        file: item.file,
        offset: item.offset,
        columns: item.columns,
        marked: true,
        firstLine: item.firstLine ?? (item.offset === 0 ? 1 : undefined),
      };
      // TextDecoder drops a leading BOM unless told not to: only a file's first bytes may have one.
      decoder = new TextDecoder('utf-8', { ignoreBOM: item.offset !== 0 });
      lineNo = 0;
      streamAt = restAt = item.recordsStart ?? item.offset;
      continue;
    }
    if (typeof item === 'string') {
      streamAt = restAt = undefined;
      yield { split, firstLine: ++lineNo, lines: [item], byteOffset: unknownOffset };
      continue;
    }
    if (!(item instanceof Uint8Array))
      throw new Error('internal: TaskIO.readSource must yield split markers, strings or Buffers');
    onBytes(item.byteLength);
    const chunkAt = streamAt;
    if (streamAt !== undefined) streamAt += item.byteLength;
    const text = rest + decoder.decode(item, { stream: true });
    const parts = text.split('\n');
    rest = parts.pop()!;
    if (parts.length === 0) continue;
    // Most files have no '\r': then the split's array is the lines (a copy per chunk was ~40 % of
    // the split's cost on 4 MiB chunks of 100-byte lines).
    const lines = text.indexOf('\r') < 0 ? parts : parts.map(stripCr);
    // Line 0 began in `rest` (maybe in an earlier chunk); line i > 0 just after this chunk's i-th '\n'.
    const firstAt = restAt;
    const byteOffset =
      chunkAt === undefined || firstAt === undefined
        ? unknownOffset
        : (index: number) => (index === 0 ? firstAt : chunkAt + afterNthNewline(item, index));
    yield { split, firstLine: lineNo + 1, lines, byteOffset };
    lineNo += lines.length;
    restAt = chunkAt === undefined ? undefined : chunkAt + item.lastIndexOf(NEWLINE) + 1;
  }
  const last = flush();
  if (last) yield last;
}

/** Where `batch.lines[index]` is in its file. */
export function recordPosition(batch: LineBatch, index: number): RecordPosition {
  const { split } = batch;
  const lineInSplit = batch.firstLine + index;
  return {
    file: split.file,
    byteOffset: batch.byteOffset(index),
    line: split.firstLine === undefined ? undefined : split.firstLine + lineInSplit - 1,
  };
}

/**
 * `az://c/f.csv at byte 1047, line 12`: the record's place in its file, with what is known.
 * Without a byte offset (line strings) the line within its split is named instead.
 */
export function describeRecordPosition(batch: LineBatch, index: number): string {
  const { file, byteOffset, line } = recordPosition(batch, index);
  if (byteOffset === undefined) {
    if (line !== undefined) return `${file}, line ${line}`;
    return `${file} (split at byte ${batch.split.offset}), line ${batch.firstLine + index} of the split`;
  }
  return line === undefined ? `${file} at byte ${byteOffset}` : `${file} at byte ${byteOffset}, line ${line}`;
}

/**
 * Thrown by a record's conversion or validation (a CSV column that is not a number, a schema
 * that rejects the record) with the reason; the decoder reports the record it was converting
 * through BadRecords, which names its file, byte offset and line. Never leaves a decoder.
 */
export class RecordRejected extends Error {}

/** Collects bad records of one partition: throws under 'fail', counts under 'skip'. */
export class BadRecords {
  /** Records skipped so far in this partition. */
  skipped = 0;

  constructor(
    private readonly policy: BadRecordPolicy,
    private readonly sourceLabel: string,
    private readonly partition: number,
  ) {}

  /** Report the bad record that starts at `batch.lines[index]`; throws BadRecordError under 'fail'. */
  report(batch: LineBatch, index: number, reason: string, text: string): void {
    if (this.policy === 'skip') {
      this.skipped++;
      return;
    }
    const excerpt = text.length > 120 ? `${text.slice(0, 120)}…` : text;
    throw new BadRecordError(
      `${this.sourceLabel}: bad record in ${describeRecordPosition(batch, index)} (partition ${this.partition}): ${reason}: ${JSON.stringify(excerpt)} (use badRecords: 'skip' to drop and count bad records)`,
      this.partition,
      recordPosition(batch, index),
    );
  }
}

/**
 * Parse JSON Lines: one value per line, blank lines skipped. With `validate` (a source schema,
 * see record-schema.ts) each value becomes what it returns, and one it rejects is a bad record.
 */
export function parseJsonLines(
  batch: LineBatch,
  bad: BadRecords,
  validate?: (value: unknown) => unknown,
): unknown[] {
  const out: unknown[] = [];
  for (const [i, line] of batch.lines.entries()) {
    if (line.trim().length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      bad.report(batch, i, `not JSON (${(error as Error).message})`, line);
      continue;
    }
    if (!validate) {
      out.push(value);
      continue;
    }
    try {
      out.push(validate(value));
    } catch (error) {
      if (!(error instanceof RecordRejected)) throw error;
      bad.report(batch, i, error.message, line);
    }
  }
  return out;
}
