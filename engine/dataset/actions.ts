/**
 * Actions: what ends a job. An Action is an object (not a promise): the builder returns it,
 * the driver plans a job for it, each result task computes a JSON-serialisable partial
 * from its partition, and `mergeActionResults` folds the partials in partition order.
 *
 * Partial results per op: collect → records[]; count → number; take(n)/first → at most n
 * records of the partition (take is computed per partition and merged, not by Spark's
 * incremental scan: every partition runs, each stops reading after n records);
 * reduce → {empty:true} | {empty:false, value}; fold/aggregate → the partition's folded
 * value; countByKey → [key, count][] of the partition; sampleSortKeys → RangeSample.
 * Outer-join misses are `null`. Save actions have no partial: their task streams the
 * partition's lines into its part file (writeSavedPart) and reports a SavedPartSummary.
 * The actions of numeric-actions.ts, ordered-actions.ts, pair-actions.ts and take-sample.ts
 * document their own partials.
 *
 * Two extensions of Spark's runJob reach here: an action may compute only some partitions
 * (`partitions`, as `runJob(rdd, func, partitions)` — lookup on a partitioned dataset), and it
 * may read the results of hidden jobs run before it (`needs`, see hidden-jobs.ts), which its
 * partial and merge get through `HiddenResults`.
 */
import { asUserCodeError, EmptyCollectionError, StratusError } from '../../contract/errors.js';
import type { OptionValue } from '../plan/option-value.js';
import { compareKeys, type Key } from '../records/keys.js';
import { seededRandom } from '../records/rng.js';
import type { RangeSample } from '../shuffle/partitioner.js';
import type { SavedPartSink } from '../task/task-io.js';
import type { GraphBuilder } from './graph-builder.js';

/**
 * The kinds of action. `sampleSortKeys` is the hidden sampling job of a sort; `unpersist` runs
 * no job: the driver releases a persisted dataset at that point of the action order.
 */
export type ActionOp =
  | 'collect'
  | 'count'
  | 'take'
  | 'first'
  | 'reduce'
  | 'fold'
  | 'aggregate'
  | 'countByKey'
  | 'saveAsTextFile'
  | 'saveAsJsonLines'
  | 'saveAsCsv'
  | 'sampleSortKeys'
  // DataFrame actions (engine/sql): a write (Parquet, CSV, JSON), show, and those answered by the driver.
  | 'write'
  | 'show'
  | 'schema'
  | 'printSchema'
  | 'explain'
  // Issue 13's actions (see the Dataset methods of the same names).
  | 'countByValue'
  | 'collectAsMap'
  | 'foreach'
  | 'foreachPartition'
  | 'top'
  | 'takeOrdered'
  | 'max'
  | 'min'
  | 'sum'
  | 'mean'
  | 'stats'
  | 'histogram'
  | 'treeAggregate'
  | 'treeReduce'
  | 'lookup'
  | 'takeSample'
  // Hidden jobs (hidden-jobs.ts): records per partition, and the range of a histogram.
  | 'countPartitions'
  | 'histogramRange'
  // Persist and hand the dataset to a later run (handles.ts).
  | 'handle'
  // Not a job: a driver-side step between jobs (persist-ops.ts).
  | 'unpersist';

/** True for the actions that write one part file per partition (committed by the driver). */
export function isSaveOp(op: string): boolean {
  return op === 'saveAsTextFile' || op === 'saveAsJsonLines' || op === 'saveAsCsv' || op === 'write';
}

/**
 * JSON reference to an action of a graph: a named action, the sampling job of sort node
 * `sampleSortKeys`, or hidden job `hiddenJob` (hidden-jobs.ts).
 */
export type ActionRef =
  | { name: string }
  | { sampleSortKeys: number; perPartition: number }
  | { hiddenJob: number };

/**
 * The merged result of hidden job `id`, as the driver computed it before this job (tasks read it
 * from their stage plan, the driver's merge from the result stage's). Throws for a job the
 * action did not declare in `needs`.
 */
export type HiddenResults = (id: number) => unknown;

/** HiddenResults of a job that reads none. */
export const noHiddenResults: HiddenResults = (id) => {
  throw new Error(`internal: hidden job ${id} has no result here (not declared in the action's needs?)`);
};

/** What a save action's merged result reports. */
export interface SaveResult {
  /** The output folder or blob prefix, as given to the save action. */
  path: string;
  /** Part files written: one per partition. */
  partitions: number;
  /** Records written across all part files. */
  records: number;
}

/** How a save action turns records into the lines of its part files. */
export interface SaveFormat {
  /** The line of one record, without its line break. */
  toLine(record: unknown): string;
  /** A line written first in every non-empty part file (a CSV header), as Spark does. */
  header?: string;
}

/** What one save task reports instead of a partial: its part file's size. */
export interface SavedPartSummary {
  records: number;
  bytes: number;
}

/** The closures behind an action. */
export interface ActionImpl {
  /** One partition's partial result (JSON-serialisable) from its record batches. */
  partial(batches: AsyncIterable<unknown[]>, partition: number, hidden: HiddenResults): Promise<unknown>;
  /**
   * Fold the partials of every computed partition, in partition order (SavedPartSummary[] for
   * saves). Runs on the driver; what it throws fails the job (EMPTY_COLLECTION…).
   */
  merge(partials: readonly unknown[], hidden: HiddenResults): unknown;
  /** Save actions: their line format; their tasks call writeSavedPart, never `partial`. */
  save?: SaveFormat;
  /**
   * Spark's `runJob(rdd, func, partitions)`: the partitions to compute, ascending, given the
   * node's partition count; all of them when absent. merge gets only these partials.
   */
  partitions?(numPartitions: number): readonly number[];
  /** Hidden jobs (ids in the graph) that must have run first: partial and merge read their results. */
  needs?: readonly number[];
}

/** An action over dataset node `nodeId`; R is the type of its merged result. */
export class Action<R> {
  /** Tells an action apart from a record of named actions in what a builder returns. */
  readonly kind = 'stratus-action' as const;
  /** Phantom: only carries R for typing. */
  declare readonly resultType?: R;
  // The members below are the engine's, not the job module's: `@internal` keeps them out of the
  // published .d.ts (tsconfig.build.json strips them), so users see an opaque Action<R>.
  /** @internal Built by Dataset's action methods. */
  constructor(
    /** @internal */
    readonly op: ActionOp,
    /** @internal */
    readonly nodeId: number,
    /** @internal */
    readonly options: Readonly<Record<string, OptionValue>>,
    /** @internal */
    readonly impl: ActionImpl,
    /** @internal The graph under construction it belongs to (checked when the builder returns it). */
    readonly builder: GraphBuilder,
    /** @internal Where the job module called it (`wordcount.ts:12`); a label, not in the fingerprint. */
    readonly callSite?: string,
  ) {}
}

/**
 * Merge per-partition partials (in partition order, computed partitions only) into the action's
 * result, on the driver; `hidden` serves the results of the hidden jobs the action needs.
 */
export function mergeActionResults<R>(
  action: Action<R>,
  partials: readonly unknown[],
  hidden: HiddenResults = noHiddenResults,
): R {
  return action.impl.merge(partials, hidden) as R;
}

function clone<T>(value: T): T {
  return value === null || typeof value !== 'object' ? value : structuredClone(value);
}

async function drain(batches: AsyncIterable<unknown[]>, each: (batch: unknown[]) => void): Promise<void> {
  for await (const batch of batches) each(batch);
}

/** Builders of each action's closures; `label` names the action in errors. */
export const actionImpls = {
  collect(): ActionImpl {
    return {
      async partial(batches) {
        const out: unknown[] = [];
        await drain(batches, (b) => {
          for (const r of b) out.push(r);
        });
        return out;
      },
      merge: (partials) => (partials as unknown[][]).flat(),
    };
  },
  count(): ActionImpl {
    return {
      async partial(batches) {
        let n = 0;
        await drain(batches, (b) => {
          n += b.length;
        });
        return n;
      },
      merge: (partials) => (partials as number[]).reduce((a, b) => a + b, 0),
    };
  },
  take(n: number, first: boolean): ActionImpl {
    return {
      async partial(batches) {
        const out: unknown[] = [];
        if (n === 0) return out;
        for await (const batch of batches) {
          for (const r of batch) {
            out.push(r);
            if (out.length >= n) return out;
          }
        }
        return out;
      },
      merge(partials) {
        const all = (partials as unknown[][]).flat().slice(0, n);
        if (!first) return all;
        if (all.length === 0) throw new EmptyCollectionError('first()');
        return all[0];
      },
    };
  },
  /** reduce, or another action that reduces (`op` names it in errors: treeReduce). */
  reduce(f: (a: unknown, b: unknown) => unknown, op = 'reduce'): ActionImpl {
    const fold = (acc: { empty: boolean; value?: unknown }, r: unknown) => {
      if (acc.empty) return { empty: false, value: r };
      try {
        return { empty: false, value: f(acc.value, r) };
      } catch (error) {
        throw asUserCodeError(op, error);
      }
    };
    return {
      async partial(batches) {
        let acc: { empty: boolean; value?: unknown } = { empty: true };
        await drain(batches, (b) => {
          for (const r of b) acc = fold(acc, r);
        });
        return acc;
      },
      merge(partials) {
        let acc: { empty: boolean; value?: unknown } = { empty: true };
        for (const p of partials as { empty: boolean; value?: unknown }[])
          if (!p.empty) acc = fold(acc, p.value);
        if (acc.empty) throw new EmptyCollectionError(`${op}()`);
        return acc.value;
      },
    };
  },
  aggregate(
    op: string,
    zero: unknown,
    seqOp: (acc: unknown, r: unknown) => unknown,
    combOp: (a: unknown, b: unknown) => unknown,
  ): ActionImpl {
    return {
      async partial(batches) {
        let acc = clone(zero);
        try {
          for await (const batch of batches) for (const r of batch) acc = seqOp(acc, r);
        } catch (error) {
          throw asUserCodeError(op, error);
        }
        return acc;
      },
      merge(partials) {
        let acc = clone(zero);
        try {
          for (const p of partials) acc = combOp(acc, p);
        } catch (error) {
          throw asUserCodeError(op, error);
        }
        return acc;
      },
    };
  },
  countByKey(): ActionImpl {
    const collect = actionImpls.collect();
    return {
      partial: collect.partial,
      merge: (partials) =>
        ((partials as [Key, number][][]).flat() as [Key, number][]).sort((a, b) => compareKeys(a[0], b[0])),
    };
  },
  save(path: string, format: SaveFormat): ActionImpl {
    return {
      partial() {
        throw new Error(`internal: save tasks stream their lines with writeSavedPart (${path})`);
      },
      merge: (partials): SaveResult => ({
        path,
        partitions: partials.length,
        records: (partials as SavedPartSummary[]).reduce((n, p) => n + p.records, 0),
      }),
      save: format,
    };
  },
  /** Reservoir sample of up to `perPartition` keys of [key, value] records, seeded by sort node and partition. */
  sampleSortKeys(sortNodeId: number, perPartition: number): ActionImpl {
    return {
      async partial(batches, partition): Promise<RangeSample> {
        const random = seededRandom(sortNodeId, partition);
        const keys: Key[] = [];
        let count = 0;
        await drain(batches, (b) => {
          for (const r of b) {
            if (!Array.isArray(r))
              throw new StratusError('NOT_A_PAIR', 'sortByKey needs [key, value] records');
            const key = r[0] as Key;
            if (count < perPartition) keys.push(key);
            else {
              const j = Math.floor(random.next() * (count + 1));
              if (j < perPartition) keys[j] = key;
            }
            count++;
          }
        });
        return { count, keys };
      },
      merge: (partials) => partials as RangeSample[],
    };
  },
};

/**
 * Stream one save partition into its part file: the header first when the partition has a
 * record, then one line per record, one sink write per batch, then close the sink. Errors of
 * the line format (a record it cannot write) are the user's, named after `op`; the sink's
 * own errors (storage) pass through unchanged.
 */
export async function writeSavedPart(
  batches: AsyncIterable<unknown[]>,
  format: SaveFormat,
  sink: SavedPartSink,
  op: string,
): Promise<SavedPartSummary> {
  let records = 0;
  let bytes = 0;
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    let text = records === 0 && format.header !== undefined ? `${format.header}\n` : '';
    try {
      for (const record of batch) text += `${format.toLine(record)}\n`;
    } catch (error) {
      throw asUserCodeError(op, error);
    }
    records += batch.length;
    bytes += Buffer.byteLength(text);
    await sink.write(text);
  }
  await sink.close();
  return { records, bytes };
}

/** The partition file name Spark uses for a save action's partition: `part-00003`. */
export function partFileName(partition: number): string {
  return `part-${String(partition).padStart(5, '0')}`;
}
