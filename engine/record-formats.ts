/**
 * Input formats of file sources: how the bytes TaskIO.readSource yields become records.
 * The bytes of a partition arrive split by split; before each split the executor yields a
 * SourceSplitStart marker, so lines are numbered within their split, a file that does not
 * end in '\n' never runs into the next one, errors name the file and the split, and a CSV
 * header is recognised only where a file begins. A partition given without markers (the
 * in-memory runner, plain strings) is read as one whole file.
 *
 * Bad records (a line that is not JSON, a CSV row that does not parse or convert) either
 * fail the task with BadRecordError (`badRecords: 'fail'`, the default, Spark's FAILFAST) or
 * are dropped and counted in the source's accumulator (`'skip'`, Spark's DROPMALFORMED).
 */
import { StratusError } from './errors.js';

/** Yielded by TaskIO.readSource before the bytes of each split of a partition. */
export interface SourceSplitStart {
  readonly kind: 'split-start';
  /** The file the user named (a local path or an az:// address), for error messages. */
  readonly file: string;
  /** Byte offset of the split in that file: 0 means the split begins the file (a header, a BOM). */
  readonly offset: number;
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

/** A bad input record under `badRecords: 'fail'`; the message names file, split, line and reason. */
export class BadRecordError extends StratusError {
  constructor(message: string, partition: number) {
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
}

/** Lines of one split, in order; `firstLine` is the 1-based number of `lines[0]` within the split. */
export interface LineBatch {
  readonly split: SplitPosition;
  readonly firstLine: number;
  readonly lines: string[];
}

const stripCr = (s: string) => (s.endsWith('\r') ? s.slice(0, -1) : s);

/**
 * Cut the items of TaskIO.readSource (markers, Buffer chunks, or ready-made line strings)
 * into batches of lines per split: '\n' ends a line, a '\r' before it is dropped, a last line
 * without '\n' still counts, and a BOM is removed where a file begins. `onBytes` counts bytes.
 */
export async function* lineBatches(
  items: AsyncIterable<unknown>,
  defaultFile: string,
  onBytes: (n: number) => void,
): AsyncGenerator<LineBatch> {
  let split: SplitPosition = { file: defaultFile, offset: 0, columns: undefined, marked: false };
  let decoder = new TextDecoder('utf-8');
  let rest = '';
  let lineNo = 0;
  const flush = (): LineBatch | undefined => {
    rest += decoder.decode();
    if (rest.length === 0) return undefined;
    const batch = { split, firstLine: ++lineNo, lines: [stripCr(rest)] };
    rest = '';
    return batch;
  };
  for await (const item of items) {
    if (isSplitStart(item)) {
      const last = flush();
      if (last) yield last;
      split = { file: item.file, offset: item.offset, columns: item.columns, marked: true };
      // TextDecoder drops a leading BOM unless told not to: only a file's first bytes may have one.
      decoder = new TextDecoder('utf-8', { ignoreBOM: item.offset !== 0 });
      lineNo = 0;
      continue;
    }
    if (typeof item === 'string') {
      yield { split, firstLine: ++lineNo, lines: [item] };
      continue;
    }
    if (!(item instanceof Uint8Array))
      throw new Error('internal: TaskIO.readSource must yield split markers, strings or Buffers');
    onBytes(item.byteLength);
    const text = rest + decoder.decode(item, { stream: true });
    const parts = text.split('\n');
    rest = parts.pop()!;
    if (parts.length === 0) continue;
    const lines = parts.map(stripCr);
    yield { split, firstLine: lineNo + 1, lines };
    lineNo += lines.length;
  }
  const last = flush();
  if (last) yield last;
}

/** `az://c/f.csv (split at byte 1024)`, or just the file when the split begins it. */
export function describeSplit(split: SplitPosition): string {
  return split.offset === 0 ? split.file : `${split.file} (split at byte ${split.offset})`;
}

/** Collects bad records of one partition: throws under 'fail', counts under 'skip'. */
export class BadRecords {
  /** Records skipped so far in this partition. */
  skipped = 0;

  constructor(
    private readonly policy: BadRecordPolicy,
    private readonly sourceLabel: string,
    private readonly partition: number,
  ) {}

  /** Report a bad record at `line` of `split`; throws BadRecordError under 'fail'. */
  report(split: SplitPosition, line: number, reason: string, text: string): void {
    if (this.policy === 'skip') {
      this.skipped++;
      return;
    }
    const excerpt = text.length > 120 ? `${text.slice(0, 120)}…` : text;
    const where = split.marked ? `line ${line} of the split` : `line ${line}`;
    throw new BadRecordError(
      `${this.sourceLabel}: bad record in ${describeSplit(split)}, ${where} (partition ${this.partition}): ${reason}: ${JSON.stringify(excerpt)} (use badRecords: 'skip' to drop and count bad records)`,
      this.partition,
    );
  }
}

/** Parse JSON Lines: one value per line, blank lines skipped. */
export function parseJsonLines(batch: LineBatch, bad: BadRecords): unknown[] {
  const out: unknown[] = [];
  for (const [i, line] of batch.lines.entries()) {
    if (line.trim().length === 0) continue;
    try {
      out.push(JSON.parse(line));
    } catch (error) {
      bad.report(batch.split, batch.firstLine + i, `not JSON (${(error as Error).message})`, line);
    }
  }
  return out;
}
