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

  constructor(
    private readonly env: SpillEnv,
    private readonly label: string,
    ascending: boolean,
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
    }
    this.memory.add(bytes);
    if (this.memory.overLimit()) await this.spill();
  }

  private sortBuffer(): void {
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
