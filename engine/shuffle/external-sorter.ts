/**
 * External sort of [key, value] records by key (compareKeys, ascending or descending): records
 * are buffered while they fit in the task's memory share, then sorted and spilled as a
 * run; the output merges every run with the in-memory remainder.
 */
import { compareKeys, InvalidKeyError } from '../records/keys.js';
import { estimateRecordSize, type MemoryConsumer } from '../task/memory.js';
import { inBatches, mergeSorted, readSortedRun, type SpillEnv, writeSortedRun } from './spill.js';

/** Sorts records by their key (record[0]), spilling sorted runs over the memory share. */
export class ExternalSorter {
  private buffer: unknown[] = [];
  private readonly runs: string[] = [];
  private readonly memory: MemoryConsumer;
  private readonly compare: (a: unknown, b: unknown) => number;
  /** True while every buffered record's key is a string: then sortBuffer takes sortByStringKey. */
  private stringKeys = true;

  constructor(
    private readonly env: SpillEnv,
    private readonly label: string,
    private readonly ascending: boolean,
  ) {
    this.memory = env.memory.register();
    // Two comparators rather than a sign multiply: the comparator is the sort's hot path.
    this.compare = ascending
      ? (a, b) => compareKeys((a as unknown[])[0], (b as unknown[])[0])
      : (a, b) => compareKeys((b as unknown[])[0], (a as unknown[])[0]);
  }

  /**
   * Buffer a batch, spilling when over the memory share. The estimate is added once per batch
   * (at most BATCH_SIZE records, or one decoded frame), so the share may be passed by one batch.
   */
  async insert(batch: readonly unknown[]): Promise<void> {
    const buffer = this.buffer;
    let bytes = 0;
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i];
      buffer.push(record);
      bytes += estimateRecordSize(record);
      if (typeof (record as unknown[])[0] !== 'string') this.stringKeys = false;
    }
    this.memory.add(bytes);
    if (this.memory.overLimit()) await this.spill();
  }

  private sortBuffer(): void {
    if (this.stringKeys) {
      this.buffer = sortByStringKey(this.buffer, this.ascending);
      return;
    }
    try {
      this.buffer.sort(this.compare);
    } catch (error) {
      if (error instanceof InvalidKeyError) throw new InvalidKeyError(`${this.label}: ${error.message}`);
      throw error;
    }
  }

  private async spill(): Promise<void> {
    this.sortBuffer();
    this.runs.push(await writeSortedRun(this.env, this.buffer, this.label));
    this.buffer = [];
    this.stringKeys = true;
    this.memory.set(0);
  }

  /** The sorted records, in batches; the sorter is spent afterwards. */
  async *sorted(): AsyncIterable<unknown[]> {
    this.sortBuffer();
    const memory = this.buffer;
    this.buffer = [];
    try {
      if (this.runs.length === 0) {
        yield* inBatches(memory);
        return;
      }
      const sources = [
        ...this.runs.map((id) => readSortedRun(this.env, id)),
        (async function* () {
          yield* inBatches(memory);
        })(),
      ];
      yield* mergeSorted(sources, this.compare);
    } finally {
      this.memory.release();
    }
  }
}

/**
 * Up to the first three UTF-16 code units of `key` as one exact integer (17 bits each, a unit
 * + 1, 0 past the end), so that prefixes order as the strings' first three units do under `<`.
 */
function keyPrefix(key: string): number {
  const n = key.length;
  return (
    ((n > 0 ? key.charCodeAt(0) + 1 : 0) * 131072 + (n > 1 ? key.charCodeAt(1) + 1 : 0)) * 131072 +
    (n > 2 ? key.charCodeAt(2) + 1 : 0)
  );
}

/**
 * `records` ([string, …] each) sorted by key as compareKeys orders strings (UTF-16 code units),
 * stably. Comparing JS strings with `<` is a call into the runtime per comparison (the sort's
 * comparator was the top entry of the 256 MiB sort's profile); here most comparisons are of two
 * numbers — each key's first three code units — and only keys sharing them compare as strings.
 */
export function sortByStringKey(records: readonly unknown[], ascending: boolean): unknown[] {
  const n = records.length;
  const keys: string[] = new Array<string>(n);
  const prefixes = new Float64Array(n);
  const order: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const key = (records[i] as unknown[])[0] as string;
    keys[i] = key;
    prefixes[i] = keyPrefix(key);
    order[i] = i;
  }
  const byKey = (i: number, j: number): number => {
    const d = prefixes[i]! - prefixes[j]!;
    if (d !== 0) return d;
    const a = keys[i]!;
    const b = keys[j]!;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  // Ties keep their buffered order either way (the sort is stable).
  order.sort(ascending ? byKey : (i, j) => byKey(j, i));
  const sorted: unknown[] = new Array<unknown>(n);
  for (let i = 0; i < n; i++) sorted[i] = records[order[i]!];
  return sorted;
}
