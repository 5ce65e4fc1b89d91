/**
 * External aggregation (Spark's ExternalAppendOnlyMap): values are folded per key into
 * combiners in a hash map keyed by canonical key; when the map's estimated size is over
 * the task's memory share, its entries are sorted by key and spilled as a run. The output
 * merges the runs and the map in key order, merging the combiners of equal keys. A single
 * hot key may spill many partial combiners; only its final combiner must fit in memory.
 */
import { asUserCodeError, StratusError } from '../../contract/errors.js';
import type { Aggregator } from '../plan/nodes.js';
import { canonicalKey, compareKeys, InvalidKeyError } from '../records/keys.js';
import { estimateSize, type MemoryConsumer } from '../task/memory.js';
import { inBatches, mergeSorted, readSortedRun, type SpillEnv, writeSortedRun } from './spill.js';

interface Entry {
  key: unknown;
  combiner: unknown;
}

const ENTRY_OVERHEAD = 64;
const byKey = (a: unknown, b: unknown) => compareKeys((a as unknown[])[0], (b as unknown[])[0]);

/** Folds [key, value] (or [key, combiner]) records per key, spilling over the memory share. */
export class ExternalAggregator {
  private map = new Map<string, Entry>();
  private readonly runs: string[] = [];
  private readonly memory: MemoryConsumer;

  constructor(
    private readonly env: SpillEnv,
    private readonly aggregator: Aggregator,
    private readonly label: string,
  ) {
    this.memory = env.memory.register();
  }

  /** Fold a batch of [key, value] records (`combined`: the values are already combiners). */
  async insert(batch: readonly unknown[], combined: boolean): Promise<void> {
    const { createCombiner, mergeValue, mergeCombiners } = this.aggregator;
    for (const record of batch) {
      if (!Array.isArray(record) || record.length !== 2) {
        throw new StratusError(
          'NOT_A_PAIR',
          `${this.label} needs [key, value] records, got ${JSON.stringify(record)}`,
        );
      }
      const [key, value] = record as [unknown, unknown];
      let id: string;
      try {
        id = canonicalKey(key);
      } catch (error) {
        throw new InvalidKeyError(`${this.label}: ${(error as Error).message}`);
      }
      const entry = this.map.get(id);
      try {
        if (entry) {
          entry.combiner = combined
            ? mergeCombiners(entry.combiner, value)
            : mergeValue(entry.combiner, value);
          this.memory.add(estimateSize(value));
        } else {
          const combiner = combined ? value : createCombiner(value);
          this.map.set(id, { key, combiner });
          this.memory.add(ENTRY_OVERHEAD + 3 * id.length + estimateSize(combiner));
        }
      } catch (error) {
        throw asUserCodeError(this.label, error);
      }
      if (this.memory.overLimit()) await this.maybeSpill();
    }
  }

  /** The running estimate only grows; measure exactly before spilling, and spill only when truly big. */
  private async maybeSpill(): Promise<void> {
    let exact = 0;
    for (const [id, entry] of this.map)
      exact += ENTRY_OVERHEAD + 3 * id.length + estimateSize(entry.combiner);
    this.memory.set(exact);
    if (exact * 2 <= this.env.memory.shareBytes()) return;
    this.runs.push(await writeSortedRun(this.env, this.sortedEntries(), this.label));
    this.map = new Map();
    this.memory.set(0);
  }

  private sortedEntries(): unknown[] {
    const records = [...this.map.values()].map((e) => [e.key, e.combiner]);
    return records.sort(byKey);
  }

  /** One [key, combiner] per key, in batches (key order once anything spilled); the aggregator is spent afterwards. */
  async *result(): AsyncIterable<unknown[]> {
    try {
      if (this.runs.length === 0) {
        const records = [...this.map.values()].map((e) => [e.key, e.combiner]);
        this.map = new Map();
        yield* inBatches(records);
        return;
      }
      const memory = this.sortedEntries();
      this.map = new Map();
      const sources = [
        ...this.runs.map((id) => readSortedRun(this.env, id)),
        (async function* () {
          yield* inBatches(memory);
        })(),
      ];
      const { mergeCombiners } = this.aggregator;
      let current: [unknown, unknown] | undefined;
      let out: unknown[] = [];
      for await (const batch of mergeSorted(sources, byKey)) {
        for (const record of batch) {
          const [key, combiner] = record as [unknown, unknown];
          if (current && compareKeys(current[0], key) === 0) {
            try {
              current[1] = mergeCombiners(current[1], combiner);
            } catch (error) {
              throw asUserCodeError(this.label, error);
            }
          } else {
            if (current) out.push(current);
            current = [key, combiner];
          }
        }
        if (out.length > 0) {
          yield out;
          out = [];
        }
      }
      if (current) yield [current];
    } finally {
      this.memory.release();
    }
  }
}
