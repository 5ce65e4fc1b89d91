/**
 * Dataset<T>: Spark's RDD API over a lazily built logical graph. Every method adds a node
 * (or returns an Action) and nothing runs until the driver plans the job. Pair methods
 * declare `this: Dataset<[K, V]>`, so the compiler only accepts them on datasets of
 * `[key, value]` tuples. Wide operations take an optional number of partitions, defaulting
 * to the context's defaultParallelism. Outer-join misses are `null`. Records must be what
 * the record codec supports (see codec.ts); keys must be Keys (see keys.ts).
 *
 * This file is longer than most: it is the whole user-facing RDD API on one class (the
 * `this: Dataset<[K, V]>` typing needs the pair methods on the class itself); the bodies
 * stay one-liners over wide-ops.ts, rdd-transforms.ts and actions.ts, and — in the delimited
 * block at the end — over the files of the actions Spark users reach for next (numeric, ordered,
 * pair, foreach, takeSample, tree aggregation) and the hidden jobs some of them run
 * (hidden-jobs.ts).
 */

import { ConfigError, StratusError } from '../../contract/errors.js';
import { currentCallSite } from '../plan/call-site.js';
import type { BatchTransform } from '../plan/nodes.js';
import type { OptionValue } from '../plan/option-value.js';
import { DEFAULT_STORAGE_LEVEL, type StorageLevel } from '../plan/persistence.js';
import { jsonLinesCodec } from '../records/codec.js';
import { canonicalKey, type Key } from '../records/keys.js';
import { poisson, seededRandom } from '../records/rng.js';
import { addBridgeExchange, checkedRow, type Row } from '../sql/bridge.js';
import { DataFrame } from '../sql/dataframe.js';
import { sqlSession } from '../sql/session.js';
import { type SchemaInput, toStructType } from '../sql/types.js';
import { Action, actionImpls, type SaveResult } from './actions.js';
import { foreachImpl, foreachPartitionImpl } from './foreach-actions.js';
import { checkPartitionCount, type GraphBuilder, type NodeSpec } from './graph-builder.js';
import { type DatasetHandle, handleImpl } from './handles.js';
import { countPartitionsImpl, registerHiddenJob, startOffsets } from './hidden-jobs.js';
import { knownHashPartitioner } from './known-partitioning.js';
import { checkBuckets, histogramImpl, histogramRangeImpl, statsImpl, sumImpl } from './numeric-actions.js';
import { extremeImpl, orderedImpl } from './ordered-actions.js';
import { collectAsMapImpl, lookupImpl } from './pair-actions.js';
import { checkpointNode, persistNode, unpersistImpl } from './persist-ops.js';
import {
  cellSampler,
  type KeyFractions,
  keysOnBothSides,
  keysOnlyHere,
  randomSplitCells,
  recordAsKey,
  sampleByKeySampler,
} from './rdd-transforms.js';
import type { StatCounter } from './stat-counter.js';
import { checkTakeSample, takeSampleImpl } from './take-sample.js';
import { checkDepth, treeAggregatePlan, treeReducePlan } from './tree-aggregate.js';
import {
  cogroupSpec,
  groupAggregator,
  reduceAggregator,
  shuffledSpec,
  sortSpec,
  zeroAggregator,
} from './wide-ops.js';

type Fn = (...args: never[]) => unknown;
const asAny = (f: Fn) => f as (...args: unknown[]) => unknown;

/** A distributed collection of records of type T (one node of the job graph). */
export class Dataset<T> {
  /** Phantom: only carries T for typing. */
  declare readonly recordType?: T;

  /** @internal Built by JobContext and by other datasets' methods (stripped from the published .d.ts). */
  constructor(
    /** @internal The graph under construction this node belongs to. */
    readonly builder: GraphBuilder,
    /** @internal Node id, in construction order. */
    readonly id: number,
  ) {}

  private add<U>(spec: NodeSpec): Dataset<U> {
    return new Dataset<U>(this.builder, this.builder.addNode(spec));
  }

  private narrow<U>(
    op: string,
    open: (partition: number, numPartitions: number) => BatchTransform,
    options?: Record<string, OptionValue>,
    preservesPartitioning = false,
  ) {
    return this.add<U>({
      op,
      parents: [this.id],
      impl: preservesPartitioning
        ? { type: 'narrow', open, preservesPartitioning }
        : { type: 'narrow', open },
      ...(options ? { options } : {}),
    });
  }

  private sameGraph(other: Dataset<unknown>, op: string): void {
    if (other.builder !== this.builder) {
      throw new StratusError('FOREIGN_DATASET', `${op}: the other dataset belongs to another job graph`);
    }
  }

  private action<R>(op: Action<R>['op'], impl: Action<R>['impl'], options: Record<string, OptionValue> = {}) {
    return new Action<R>(op, this.id, options, impl, this.builder, currentCallSite());
  }

  // ── narrow transformations ──────────────────────────────────────────────

  /** One output record per input record. */
  map<U>(f: (record: T) => U): Dataset<U> {
    const g = asAny(f);
    return this.narrow('map', () => (b) => b.map((r) => g(r)));
  }

  /** Zero or more output records per input record. */
  flatMap<U>(f: (record: T) => Iterable<U>): Dataset<U> {
    const g = asAny(f);
    return this.narrow('flatMap', () => (b) => {
      const out: unknown[] = [];
      for (const r of b) for (const u of g(r) as Iterable<unknown>) out.push(u);
      return out;
    });
  }

  /** The records for which the type guard `f` is true, narrowed to its type. */
  filter<S extends T>(f: (record: T) => record is S): Dataset<S>;
  /** The records for which `f` is true. */
  filter(f: (record: T) => boolean): Dataset<T>;
  filter(f: (record: T) => boolean): Dataset<T> {
    const g = asAny(f);
    return this.narrow('filter', () => (b) => b.filter((r) => g(r)), undefined, true);
  }

  /** Transform a whole partition at once; `records` is the partition's records as an array (materialised). */
  mapPartitions<U>(f: (records: T[], partition: number) => Iterable<U>): Dataset<U> {
    const fn = f as unknown as (records: unknown[], partition: number) => Iterable<unknown>;
    return this.add<U>({ op: 'mapPartitions', parents: [this.id], impl: { type: 'mapPartitions', fn } });
  }

  /** The records of this dataset then of `others`; partitions are concatenated (no shuffle). */
  union(...others: Dataset<T>[]): Dataset<T> {
    for (const o of others) this.sameGraph(o as Dataset<unknown>, 'union');
    return this.add<T>({
      op: 'union',
      parents: [this.id, ...others.map((o) => o.id)],
      impl: { type: 'union' },
    });
  }

  /**
   * A seeded random sample: each record is kept with probability `fraction` (without
   * replacement) or appears Poisson(fraction) times (with replacement). Deterministic per
   * partition for a given seed; the default seed is fixed, so pass one to vary samples.
   */
  sample(withReplacement: boolean, fraction: number, seed = 0): Dataset<T> {
    if (!(fraction >= 0) || (!withReplacement && fraction > 1)) {
      throw new ConfigError(
        `sample: fraction must be in [0, 1] without replacement and >= 0 with, got ${fraction}`,
      );
    }
    return this.narrow(
      'sample',
      (partition) => {
        const random = seededRandom(seed, partition);
        if (!withReplacement) return (b) => b.filter(() => random.next() < fraction);
        return (b) => {
          const out: unknown[] = [];
          for (const r of b) for (let k = poisson(random, fraction); k > 0; k--) out.push(r);
          return out;
        };
      },
      { withReplacement, fraction, seed },
      true,
    );
  }

  /** At most `n` partitions by merging neighbours without a shuffle; with `shuffle`, same as repartition(n). */
  coalesce(n: number, shuffle = false): Dataset<T> {
    checkPartitionCount(n, 'coalesce');
    if (shuffle) return this.repartition(n);
    return this.add<T>({
      op: 'coalesce',
      parents: [this.id],
      requestedPartitions: n,
      options: { n },
      impl: { type: 'coalesce' },
    });
  }

  /** Pair every record with the key `f` computes: `[f(record), record]`. */
  keyBy<K extends Key>(f: (record: T) => K): Dataset<[K, T]> {
    const g = asAny(f);
    return this.narrow('keyBy', () => (b) => b.map((r) => [g(r), r]));
  }

  /**
   * Spark's `rdd.toDF(schema)`: a DataFrame of these records, one row each — objects by column
   * name, or arrays by position — in the same partitions. Each task checks its records against the
   * schema (the form createDataFrame takes): a missing column or a value of another type fails the
   * task naming the partition, column, value and this call; nothing is coerced (sql/bridge.ts).
   */
  toDF(schema: SchemaInput): DataFrame {
    const site = currentCallSite();
    const label = site === undefined ? 'toDF' : `toDF at ${site}`;
    const struct = toStructType(schema, label);
    const checked = this.narrow(
      'toDF',
      (partition) => (b) => b.map((r) => [partition, checkedRow(r, struct, { label, partition })]),
      { schema: JSON.stringify(struct) },
    );
    const exchange = addBridgeExchange(this.builder, checked.id, 'toDF', label);
    return sqlSession(this.builder).fromDataset(struct, exchange, label);
  }

  // ── persistence and checkpoints (issue 13; persist-ops.ts, plan/persistence.ts) ──

  /**
   * Spark's `persist(StorageLevel)`: keep this dataset's partitions once the next job computes
   * them, so later jobs of the run read them instead of recomputing. Lazy: nothing happens
   * until an action's job computes the dataset. `'blob'` (the default): in Blob Storage, read by
   * any executor, and the stages that produced them are skipped. `'memory'` / `'disk'`: on the
   * executor that computed a partition (its memory / local disk); a later task that lands on
   * another executor recomputes the partition from its lineage. See docs/concepts.md.
   */
  persist(level: StorageLevel = DEFAULT_STORAGE_LEVEL): this {
    persistNode(this.builder, this.id, level, `persist('${level}')`);
    return this;
  }

  /** Spark's `cache()`: `persist()` at the default level, `'blob'` (Spark's is MEMORY_ONLY; see persist). */
  cache(): this {
    persistNode(this.builder, this.id, DEFAULT_STORAGE_LEVEL, 'cache()');
    return this;
  }

  /**
   * Spark's `unpersist()`: release this dataset's persisted partitions at this point of the
   * run; later jobs recompute it (and do not persist it again). List it among the builder's
   * named actions, where it should happen — `{ a: ds.count(), free: ds.unpersist(), b: … }`:
   * the driver performs it between the jobs before and after it and runs no job for it. Its
   * result is true when stored partitions were released. Blob copies are deleted at once;
   * executors drop their memory and disk copies when they next run a task of the run. A
   * checkpoint is not released.
   */
  unpersist(): Action<boolean> {
    return this.action('unpersist', unpersistImpl());
  }

  /**
   * Spark's `checkpoint()` (reliable, with the application's blobs as the checkpoint directory:
   * there is no `setCheckpointDir`): the next job that computes this dataset saves its
   * partitions in Blob Storage as it goes, and later jobs of the run read them as a source —
   * the lineage above is truncated (no parent stages), as in long iterative builders. The
   * blobs live under the application's prefix and are deleted with it; `unpersist` keeps them.
   */
  checkpoint(): this {
    checkpointNode(this.builder, this.id);
    return this;
  }

  /**
   * Hand this dataset to a later `driver.run` of the application without it passing through
   * the driver: the job checkpoints it (each task stores its partition in Blob Storage) and the
   * run's result is a DatasetHandle<T> — the blobs and the partitioner, a few hundred bytes.
   * The later job reads it with `ctx.fromHandle(handle)`; a dataset partitioned by key keeps its
   * partitioner, so joining it with one partitioned the same way shuffles only the other side.
   */
  handle(): Action<DatasetHandle<T>> {
    checkpointNode(this.builder, this.id);
    return this.action('handle', handleImpl());
  }

  // ── end of persistence and checkpoints ──

  // ── wide transformations on any dataset ────────────────────────────────

  /** Exactly `n` partitions, records spread round-robin (always shuffles). */
  repartition(n: number): Dataset<T> {
    return this.add<T>(shuffledSpec(this.builder, 'repartition', this.id, n, undefined, false));
  }

  /** The distinct records (records must be Keys); as Spark: map to [r, null], reduceByKey, keys. */
  distinct(numPartitions?: number): Dataset<T> {
    const paired = this.narrow<[T, null]>('distinct', () => (b) => b.map((r) => [r, null]));
    const reduced = paired.add<[T, null]>(
      shuffledSpec(this.builder, 'distinct', paired.id, numPartitions, {
        aggregator: reduceAggregator((a) => a),
        mapSideCombine: true,
      }),
    );
    return reduced.narrow('distinct', () => (b) => b.map((r) => (r as unknown[])[0]));
  }

  /** The records sorted by the key `f` computes (range partitioned; bounds from a sampling job). */
  sortBy<K extends Key>(f: (record: T) => K, ascending = true, numPartitions?: number): Dataset<T> {
    return this.keyBy(f).sortByKey(ascending, numPartitions).values();
  }

  // ── pair transformations (records are [key, value]) ─────────────────────

  /** Transform each value, keeping its key (and the partitioning). */
  mapValues<K, V, W>(this: Dataset<[K, V]>, f: (value: V) => W): Dataset<[K, W]> {
    const g = asAny(f);
    return this.narrow(
      'mapValues',
      () => (b) => b.map((r) => [(r as unknown[])[0], g((r as unknown[])[1])]),
      undefined,
      true,
    );
  }

  /** Zero or more values per value, each paired with the key. */
  flatMapValues<K, V, W>(this: Dataset<[K, V]>, f: (value: V) => Iterable<W>): Dataset<[K, W]> {
    const g = asAny(f);
    return this.narrow(
      'flatMapValues',
      () => (b) => {
        const out: unknown[] = [];
        for (const r of b) {
          const [k, v] = r as [unknown, unknown];
          for (const w of g(v) as Iterable<unknown>) out.push([k, w]);
        }
        return out;
      },
      undefined,
      true,
    );
  }

  /** The keys. */
  keys<K, V>(this: Dataset<[K, V]>): Dataset<K> {
    return this.narrow('keys', () => (b) => b.map((r) => (r as unknown[])[0]));
  }

  /** The values. */
  values<K, V>(this: Dataset<[K, V]>): Dataset<V> {
    return this.narrow('values', () => (b) => b.map((r) => (r as unknown[])[1]));
  }

  /** Merge the values of each key with an associative, commutative `f` (combined map-side). */
  reduceByKey<K extends Key, V>(this: Dataset<[K, V]>, f: (a: V, b: V) => V, numPartitions?: number) {
    const aggregator = reduceAggregator(asAny(f) as (a: unknown, b: unknown) => unknown);
    return this.add<[K, V]>(
      shuffledSpec(this.builder, 'reduceByKey', this.id, numPartitions, { aggregator, mapSideCombine: true }),
    );
  }

  /** Like reduceByKey, starting each key (in each partition) from a copy of `zero`. */
  foldByKey<K extends Key, V>(this: Dataset<[K, V]>, zero: V, f: (a: V, b: V) => V, numPartitions?: number) {
    const g = asAny(f) as (a: unknown, b: unknown) => unknown;
    const aggregator = zeroAggregator(zero, g, g);
    return this.add<[K, V]>(
      shuffledSpec(this.builder, 'foldByKey', this.id, numPartitions, { aggregator, mapSideCombine: true }),
    );
  }

  /** Fold values into a U per key: seqOp within a partition, combOp across partitions. */
  aggregateByKey<K extends Key, V, U>(
    this: Dataset<[K, V]>,
    zero: U,
    seqOp: (acc: U, value: V) => U,
    combOp: (a: U, b: U) => U,
    numPartitions?: number,
  ): Dataset<[K, U]> {
    const aggregator = zeroAggregator(zero, asAny(seqOp), asAny(combOp));
    return this.add<[K, U]>(
      shuffledSpec(this.builder, 'aggregateByKey', this.id, numPartitions, {
        aggregator,
        mapSideCombine: true,
      }),
    );
  }

  /** The general per-key aggregation (Spark's combineByKey); combiners are owned and may be mutated. */
  combineByKey<K extends Key, V, C>(
    this: Dataset<[K, V]>,
    createCombiner: (value: V) => C,
    mergeValue: (combiner: C, value: V) => C,
    mergeCombiners: (a: C, b: C) => C,
    numPartitions?: number,
  ): Dataset<[K, C]> {
    const aggregator = {
      createCombiner: asAny(createCombiner),
      mergeValue: asAny(mergeValue),
      mergeCombiners: asAny(mergeCombiners),
    };
    return this.add<[K, C]>(
      shuffledSpec(this.builder, 'combineByKey', this.id, numPartitions, {
        aggregator,
        mapSideCombine: true,
      }),
    );
  }

  /** All values of each key as an array (no map-side combine; a hot key spills but its group must fit). */
  groupByKey<K extends Key, V>(this: Dataset<[K, V]>, numPartitions?: number): Dataset<[K, V[]]> {
    return this.add<[K, V[]]>(
      shuffledSpec(this.builder, 'groupByKey', this.id, numPartitions, {
        aggregator: groupAggregator,
        mapSideCombine: false,
      }),
    );
  }

  /** For each key in either dataset: `[key, [values here, values there]]`. */
  cogroup<K extends Key, V, W>(
    this: Dataset<[K, V]>,
    other: Dataset<[K, W]>,
    numPartitions?: number,
  ): Dataset<[K, [V[], W[]]]> {
    this.sameGraph(other as Dataset<unknown>, 'cogroup');
    return this.add(cogroupSpec(this.builder, 'cogroup', [this.id, other.id], numPartitions));
  }

  private joinVia<R>(
    op: string,
    other: Dataset<unknown>,
    n: number | undefined,
    emit: (vs: unknown[], ws: unknown[], out: unknown[]) => void,
  ) {
    this.sameGraph(other, op);
    const grouped = this.add<unknown>(cogroupSpec(this.builder, op, [this.id, other.id], n));
    // Keys stay in their cogroup partition (Spark's joins are flatMapValues over a cogroup).
    return grouped.narrow<R>(
      op,
      () => (b) => {
        const out: unknown[] = [];
        for (const r of b) {
          const [k, [vs, ws]] = r as [unknown, [unknown[], unknown[]]];
          const pairs: unknown[] = [];
          emit(vs, ws, pairs);
          for (const p of pairs) out.push([k, p]);
        }
        return out;
      },
      undefined,
      true,
    );
  }

  /** Inner join: `[key, [v, w]]` for every pair of values with equal keys. */
  join<K extends Key, V, W>(this: Dataset<[K, V]>, other: Dataset<[K, W]>, numPartitions?: number) {
    return this.joinVia<[K, [V, W]]>('join', other as Dataset<unknown>, numPartitions, (vs, ws, out) => {
      for (const v of vs) for (const w of ws) out.push([v, w]);
    });
  }

  /** Left outer join: keys of this dataset; `w` is null when the other has no value for the key. */
  leftOuterJoin<K extends Key, V, W>(this: Dataset<[K, V]>, other: Dataset<[K, W]>, numPartitions?: number) {
    return this.joinVia<[K, [V, W | null]]>(
      'leftOuterJoin',
      other as Dataset<unknown>,
      numPartitions,
      (vs, ws, out) => {
        for (const v of vs) {
          if (ws.length === 0) out.push([v, null]);
          else for (const w of ws) out.push([v, w]);
        }
      },
    );
  }

  /** Right outer join: keys of the other dataset; `v` is null when this one has no value for the key. */
  rightOuterJoin<K extends Key, V, W>(this: Dataset<[K, V]>, other: Dataset<[K, W]>, numPartitions?: number) {
    return this.joinVia<[K, [V | null, W]]>(
      'rightOuterJoin',
      other as Dataset<unknown>,
      numPartitions,
      (vs, ws, out) => {
        for (const w of ws) {
          if (vs.length === 0) out.push([null, w]);
          else for (const v of vs) out.push([v, w]);
        }
      },
    );
  }

  /** Full outer join: keys of either dataset; the missing side is null. */
  fullOuterJoin<K extends Key, V, W>(this: Dataset<[K, V]>, other: Dataset<[K, W]>, numPartitions?: number) {
    return this.joinVia<[K, [V | null, W | null]]>(
      'fullOuterJoin',
      other as Dataset<unknown>,
      numPartitions,
      (vs, ws, out) => {
        if (vs.length === 0) for (const w of ws) out.push([null, w]);
        else if (ws.length === 0) for (const v of vs) out.push([v, null]);
        else for (const v of vs) for (const w of ws) out.push([v, w]);
      },
    );
  }

  /** The pairs of this dataset whose key does not occur in `other`. */
  subtractByKey<K extends Key, V, W>(this: Dataset<[K, V]>, other: Dataset<[K, W]>, numPartitions?: number) {
    return this.joinVia<[K, V]>('subtractByKey', other as Dataset<unknown>, numPartitions, (vs, ws, out) => {
      if (ws.length === 0) for (const v of vs) out.push(v);
    });
  }

  /** Sorted by key (compareKeys order), range partitioned: partition i holds smaller keys than i+1. */
  sortByKey<K extends Key, V>(
    this: Dataset<[K, V]>,
    ascending = true,
    numPartitions?: number,
  ): Dataset<[K, V]> {
    return this.add(sortSpec(this.builder, this.id, ascending, numPartitions));
  }

  /** Hash partitioned into `numPartitions` by key. */
  partitionBy<K extends Key, V>(this: Dataset<[K, V]>, numPartitions: number): Dataset<[K, V]> {
    return this.add(shuffledSpec(this.builder, 'partitionBy', this.id, numPartitions, undefined));
  }

  // ── RDD transformations added in issue 13 (logic in rdd-transforms.ts) ────

  /**
   * Spark's `groupBy`: the records grouped by the key `f` computes, `[key, records]` (a keyBy then
   * a groupByKey: shuffles, no map-side combine). The order of records within a group is not defined.
   */
  groupBy<K extends Key>(f: (record: T) => K, numPartitions?: number): Dataset<[K, T[]]> {
    const g = asAny(f);
    const keyed = this.narrow<[K, T]>('groupBy', () => (b) => b.map((r) => [g(r), r]));
    return keyed.add(
      shuffledSpec(this.builder, 'groupBy', keyed.id, numPartitions, {
        aggregator: groupAggregator,
        mapSideCombine: false,
      }),
    );
  }

  /**
   * Spark's `intersection`: the records present in both datasets, each once (records must be
   * Keys). Shuffles both sides: a cogroup of `[record, null]` pairs keeping keys seen on both.
   */
  intersection(other: Dataset<T>, numPartitions?: number): Dataset<T> {
    return this.cogroupRecords('intersection', other, numPartitions, keysOnBothSides);
  }

  /**
   * Spark's `subtract`: the records of this dataset that do not occur in `other`, duplicates
   * kept (records must be Keys). Shuffles both sides into `numPartitions` (default: the default
   * parallelism, as every wide operation here; Spark's defaults to this dataset's partition count).
   */
  subtract(other: Dataset<T>, numPartitions?: number): Dataset<T> {
    return this.cogroupRecords('subtract', other, numPartitions, keysOnlyHere);
  }

  /** Records as keys on both sides, cogrouped, then `keep` picks the keys to emit (intersection, subtract). */
  private cogroupRecords(op: string, other: Dataset<T>, n: number | undefined, keep: BatchTransform) {
    this.sameGraph(other as Dataset<unknown>, op);
    const here = this.narrow(op, () => recordAsKey);
    const there = other.narrow(op, () => recordAsKey);
    const grouped = this.add<unknown>(cogroupSpec(this.builder, op, [here.id, there.id], n));
    return grouped.narrow<T>(op, () => keep);
  }

  /**
   * Spark's `cartesian`: every pair `[t, u]` of a record of this dataset and one of `other`, in
   * n1 × n2 partitions where partition `i * n2 + j` pairs partition i of this dataset with
   * partition j of `other` (for each t in order, each u in order). No shuffle: both are narrow
   * parents computed in the same task. Records are shared between pairs, not copied: do not
   * mutate them (or values combined from them, in reduceByKey) in place.
   */
  cartesian<U>(other: Dataset<U>): Dataset<[T, U]> {
    this.sameGraph(other as Dataset<unknown>, 'cartesian');
    return this.add<[T, U]>({ op: 'cartesian', parents: [this.id, other.id], impl: { type: 'cartesian' } });
  }

  /** Spark's `glom`: each partition as one array of its records, in order (`[]` for an empty partition). */
  glom(): Dataset<T[]> {
    return this.add<T[]>({
      op: 'glom',
      parents: [this.id],
      impl: { type: 'mapPartitions', fn: (records) => [records] },
    });
  }

  /**
   * Spark's `mapPartitionsWithIndex`: `f(index, records)` for each partition, index first as in
   * Spark (mapPartitions passes the same two as `(records, partition)`); `records` is materialised.
   */
  mapPartitionsWithIndex<U>(f: (index: number, records: T[]) => Iterable<U>): Dataset<U> {
    const g = f as unknown as (index: number, records: unknown[]) => Iterable<unknown>;
    return this.add<U>({
      op: 'mapPartitionsWithIndex',
      parents: [this.id],
      impl: { type: 'mapPartitions', fn: (records, partition) => g(partition, records) },
    });
  }

  /**
   * Spark's `sampleByKey`: a sample of each key's pairs at its own fraction — kept with
   * probability `fractions[key]` (without replacement) or Poisson-repeated (with). Narrow and
   * seeded per partition as `sample`. `fractions` must name every key (a Map for any keys, an
   * object for string keys); a key without one fails the task with SAMPLE_FRACTION_MISSING.
   */
  sampleByKey<K extends Key, V>(
    this: Dataset<[K, V]>,
    withReplacement: boolean,
    fractions: ReadonlyMap<K, number> | ([K] extends [string] ? Readonly<Record<K, number>> : never),
    seed = 0,
  ): Dataset<[K, V]> {
    const sampler = sampleByKeySampler(withReplacement, fractions as KeyFractions<Key>, seed);
    return this.narrow('sampleByKey', sampler.open, sampler.options, true);
  }

  /**
   * Spark's `randomSplit`: splits with sizes in proportion to `weights` (normalised), each
   * record in exactly one split. No shuffle: each split samples every partition with the same
   * seeded stream, keeping the draws in its cell of [0, 1). Each split recomputes this dataset,
   * so cache() it first when it is costly or its partitions' order may change between runs.
   */
  randomSplit(weights: readonly number[], seed = 0): Dataset<T>[] {
    return randomSplitCells(weights).map(([lower, upper], split) =>
      this.narrow<T>('randomSplit', cellSampler(lower, upper, seed), { split, lower, upper, seed }, true),
    );
  }

  // ── actions ─────────────────────────────────────────────────────────────

  /** All records, in partition order. */
  collect(): Action<T[]> {
    return this.action('collect', actionImpls.collect());
  }

  /** The number of records. */
  count(): Action<number> {
    return this.action('count', actionImpls.count());
  }

  /** The first `n` records in partition order. */
  take(n: number): Action<T[]> {
    if (!Number.isInteger(n) || n < 0)
      throw new ConfigError(`take: n must be a non-negative integer, got ${n}`);
    return this.action('take', actionImpls.take(n, false), { n });
  }

  /** The first record; the job fails with EMPTY_COLLECTION when there is none. */
  first(): Action<T> {
    return this.action('first', actionImpls.take(1, true), { n: 1 });
  }

  /** Reduce all records with an associative, commutative `f`; fails with EMPTY_COLLECTION when empty. */
  reduce(f: (a: T, b: T) => T): Action<T> {
    return this.action('reduce', actionImpls.reduce(asAny(f) as (a: unknown, b: unknown) => unknown));
  }

  /** Fold each partition from a copy of `zero`, then the partials from a copy of `zero` (as Spark). */
  fold(zero: T, f: (a: T, b: T) => T): Action<T> {
    const g = asAny(f) as (a: unknown, b: unknown) => unknown;
    return this.action('fold', actionImpls.aggregate('fold', zero, g, g));
  }

  /** seqOp folds records of a partition into a copy of `zero`; combOp merges partials on the driver. */
  aggregate<U>(zero: U, seqOp: (acc: U, record: T) => U, combOp: (a: U, b: U) => U): Action<U> {
    return this.action('aggregate', actionImpls.aggregate('aggregate', zero, asAny(seqOp), asAny(combOp)));
  }

  /** Count records per key (a reduceByKey job): `[key, count]` pairs sorted by key. */
  countByKey<K extends Key, V>(this: Dataset<[K, V]>): Action<[K, number][]> {
    const counts = this.mapValues(() => 1).reduceByKey((a, b) => a + b);
    return counts.action('countByKey', actionImpls.countByKey());
  }

  /** Write one text file per partition under `path`: strings as they are, other records as JSON. */
  saveAsTextFile(path: string): Action<SaveResult> {
    const toLine = (r: unknown) => (typeof r === 'string' ? r : JSON.stringify(r));
    return this.action('saveAsTextFile', actionImpls.save(path, { toLine }), { path });
  }

  /**
   * Write one CSV file per partition under `path`. Records are arrays (fields in order) or
   * objects (fields named by `columns`, which objects require); `header` writes the column
   * names first in every non-empty part file, as Spark does. Fields are quoted when needed
   * (delimiter, quote, line break, surrounding space); null and undefined are empty.
   */
  saveAsCsv(
    path: string,
    options: { columns?: string[]; header?: boolean; delimiter?: string } = {},
  ): Action<SaveResult> {
    const delimiter = options.delimiter ?? ',';
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new ConfigError(
        `saveAsCsv(${path}): the delimiter must be one character other than a quote or line break`,
      );
    }
    if (options.header && !options.columns) {
      throw new ConfigError(`saveAsCsv(${path}): header: true needs columns`);
    }
    const columns = options.columns;
    const quote = (value: unknown): string => {
      if (value === null || value === undefined) return '';
      const text =
        typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
      return /["\r\n]/.test(text) || text.includes(delimiter) || text.trim() !== text
        ? `"${text.replace(/"/g, '""')}"`
        : text;
    };
    const toLine = (r: unknown): string => {
      if (Array.isArray(r)) return r.map(quote).join(delimiter);
      if (r !== null && typeof r === 'object') {
        if (!columns) {
          throw new StratusError(
            'CSV_COLUMNS_REQUIRED',
            `saveAsCsv(${path}): object records need the columns option`,
          );
        }
        return columns.map((c) => quote((r as Record<string, unknown>)[c])).join(delimiter);
      }
      return quote(r);
    };
    const header = options.header && columns ? columns.map(quote).join(delimiter) : undefined;
    return this.action(
      'saveAsCsv',
      actionImpls.save(path, header !== undefined ? { toLine, header } : { toLine }),
      {
        path,
        ...(header !== undefined ? { header } : {}),
      },
    );
  }

  /** Write one JSON Lines file per partition under `path` (records must be codec-encodable). */
  saveAsJsonLines(path: string): Action<SaveResult> {
    const toLine = (r: unknown) =>
      jsonLinesCodec.encode([r], `saveAsJsonLines(${path})`).toString('utf8').slice(0, -1);
    return this.action('saveAsJsonLines', actionImpls.save(path, { toLine }), { path });
  }

  // ── Spark RDD actions and index transformations of issue 13 ─────────────
  // Bodies stay one-liners over numeric-actions.ts, ordered-actions.ts, pair-actions.ts,
  // foreach-actions.ts, take-sample.ts, tree-aggregate.ts and hidden-jobs.ts.

  /**
   * Spark's `countByValue`: how many times each distinct record occurs, as `[record, count]`
   * pairs sorted by record (compareKeys) — like countByKey, an array rather than Spark's Map.
   * Records must be Keys. One reduceByKey shuffle into defaultParallelism partitions.
   */
  countByValue<K extends Key>(this: Dataset<K>): Action<[K, number][]> {
    const ones = this.narrow<[K, number]>('countByValue', () => (b) => b.map((r) => [r, 1]));
    const counts = ones.add<[K, number]>(
      shuffledSpec(this.builder, 'countByValue', ones.id, undefined, {
        aggregator: reduceAggregator((a, b) => (a as number) + (b as number)),
        mapSideCombine: true,
      }),
    );
    return counts.action('countByValue', actionImpls.countByKey());
  }

  /**
   * Spark's `collectAsMap`: the pairs as a Map; of pairs with equal keys (the engine's key
   * equality) the later one in partition order wins, as in Spark. Keys equal as values share
   * the first such key object, so look array keys up with the entry's own key.
   */
  collectAsMap<K extends Key, V>(this: Dataset<[K, V]>): Action<Map<K, V>> {
    return this.action('collectAsMap', collectAsMapImpl());
  }

  /**
   * Spark's `foreach`: run `f` on every record, on the executors; the result is nothing. A
   * returned promise is awaited. Report back through accumulators (`ctx.accumulator`); side
   * effects run again when a task is retried.
   */
  foreach(f: (record: T) => void | Promise<void>): Action<void> {
    return this.action('foreach', foreachImpl(asAny(f)));
  }

  /** Spark's `foreachPartition`: run `f` once per partition with its records (an array); see foreach. */
  foreachPartition(f: (records: T[], partition: number) => void | Promise<void>): Action<void> {
    const g = f as unknown as (records: unknown[], partition: number) => unknown;
    return this.action('foreachPartition', foreachPartitionImpl(g));
  }

  /**
   * Spark's `takeOrdered`: the `n` smallest records in ascending order — by compareKeys over the
   * records (which must be Keys) or over `key(record)`. Ties keep dataset order. Each partition
   * keeps its best n; the driver merges them.
   */
  takeOrdered(n: number, key?: (record: T) => Key): Action<T[]> {
    checkCount(n, 'takeOrdered');
    return this.action('takeOrdered', orderedImpl(n, 1, key && asAny(key)), { n, byKey: key !== undefined });
  }

  /** Spark's `top`: the `n` largest records in descending order (see takeOrdered for the ordering). */
  top(n: number, key?: (record: T) => Key): Action<T[]> {
    checkCount(n, 'top');
    return this.action('top', orderedImpl(n, -1, key && asAny(key)), { n, byKey: key !== undefined });
  }

  /**
   * Spark's `max`: the largest record by compareKeys (records must be Keys) or by `key(record)`;
   * the first of equals. Fails with EMPTY_COLLECTION on an empty dataset, as Spark.
   */
  max(key?: (record: T) => Key): Action<T> {
    return this.action('max', extremeImpl('max()', -1, key && asAny(key)), { byKey: key !== undefined });
  }

  /** Spark's `min`: the smallest record (see max); fails with EMPTY_COLLECTION on an empty dataset. */
  min(key?: (record: T) => Key): Action<T> {
    return this.action('min', extremeImpl('min()', 1, key && asAny(key)), { byKey: key !== undefined });
  }

  /** Spark's `sum` (DoubleRDDFunctions): the sum of the numbers; 0 for an empty dataset. */
  sum(this: Dataset<number>): Action<number> {
    return this.action('sum', sumImpl());
  }

  /** Spark's `mean`: the mean of the numbers (stats().mean); NaN for an empty dataset, as Spark. */
  mean(this: Dataset<number>): Action<number> {
    return this.action('mean', statsImpl('mean'));
  }

  /**
   * Spark's `stats`: count, mean, stdev (population), sampleStdev, variance, sampleVariance,
   * sum, max and min of the numbers in one pass — a StatCounter per partition, merged on the
   * driver. Empty: count 0, the others NaN (sum 0).
   */
  stats(this: Dataset<number>): Action<StatCounter> {
    return this.action('stats', statsImpl('stats'));
  }

  /**
   * Spark's `histogram(bucketCount)`: `bucketCount` evenly spaced buckets between the smallest
   * and the largest number → `[boundaries, counts]` (one bucket [min, min] when all are equal).
   * The range comes first from a hidden job, as in Spark; an empty dataset fails it with
   * EMPTY_COLLECTION. Each bucket is [low, high) but the last, which is closed.
   */
  histogram(this: Dataset<number>, bucketCount: number): Action<[number[], number[]]>;
  /**
   * Spark's `histogram(buckets)`: counts of the numbers in the buckets between sorted boundaries
   * (at least two); [low, high) but the last, which is closed; numbers outside are ignored.
   */
  histogram(this: Dataset<number>, buckets: readonly number[]): Action<number[]>;
  histogram(this: Dataset<number>, buckets: number | readonly number[]): Action<unknown> {
    if (typeof buckets !== 'number') {
      checkBuckets(buckets);
      return this.action('histogram', histogramImpl({ buckets: [...buckets] }, 'histogram()'), {
        buckets: [...buckets],
      });
    }
    if (!Number.isInteger(buckets) || buckets < 1)
      throw new ConfigError(`histogram: bucketCount must be a positive integer, got ${buckets}`);
    const label = `histogram(${buckets})`;
    const rangeJob = registerHiddenJob(this.builder, {
      op: 'histogramRange',
      nodeId: this.id,
      impl: histogramRangeImpl(label),
      purpose: 'finding the range of the values',
    });
    return this.action('histogram', histogramImpl({ bucketCount: buckets, rangeJob }, label), {
      bucketCount: buckets,
    });
  }

  /**
   * Spark's `treeAggregate`: aggregate, with the partials merged in up to `depth − 1` levels of
   * shuffle stages before the driver (tree-aggregate.ts: the levels are sized from the partition
   * count known when the builder runs). `zero` must be neutral for combOp and combOp associative
   * and commutative; the result is then aggregate's.
   */
  treeAggregate<U>(
    zero: U,
    seqOp: (acc: U, record: T) => U,
    combOp: (a: U, b: U) => U,
    depth = 2,
  ): Action<U> {
    checkDepth(depth, 'treeAggregate');
    const tree = treeAggregatePlan(this.builder, this.id, zero, asAny(seqOp), asAny(combOp), depth);
    return new Dataset<U>(this.builder, tree.nodeId).action('treeAggregate', tree.impl, { depth });
  }

  /**
   * Spark's `treeReduce`: reduce, with partials merged in levels as treeAggregate; fails with
   * EMPTY_COLLECTION on an empty dataset.
   */
  treeReduce(f: (a: T, b: T) => T, depth = 2): Action<T> {
    checkDepth(depth, 'treeReduce');
    const tree = treeReducePlan(
      this.builder,
      this.id,
      asAny(f) as (a: unknown, b: unknown) => unknown,
      depth,
    );
    return new Dataset<T>(this.builder, tree.nodeId).action('treeReduce', tree.impl, { depth });
  }

  /**
   * Spark's `lookup`: every value of `key`, in partition order. When the dataset is hash
   * partitioned by key (reduceByKey, groupByKey, partitionBy, joins…, and mapValues or filter
   * after them) only the key's partition is computed, one task; otherwise every partition is
   * scanned.
   */
  lookup<K extends Key, V>(this: Dataset<[K, V]>, key: K): Action<V[]> {
    const canonical = canonicalKey(key); // an invalid key fails in the builder, naming it
    const partitioner = knownHashPartitioner(this.builder.nodes, this.id);
    const partition = partitioner?.getPartition(key);
    // The plan's options are JSON-like; a bigint, Date or binary key is named by its canonical form.
    return this.action('lookup', lookupImpl(key, partition), {
      key: canonical,
      ...(partition !== undefined ? { partition } : {}),
    });
  }

  /**
   * Spark's `takeSample`: exactly `num` records drawn at random (all of them, shuffled, when
   * there are fewer and `withReplacement` is false), the same for the same `seed` (an integer;
   * the default is fixed). A hidden job counts each partition's records first (take-sample.ts).
   */
  takeSample(withReplacement: boolean, num: number, seed = 0): Action<T[]> {
    checkTakeSample(num, seed);
    const countJob =
      num === 0
        ? undefined
        : registerHiddenJob(this.builder, {
            op: 'countPartitions',
            nodeId: this.id,
            impl: countPartitionsImpl(),
            purpose: 'counting the records of each partition',
          });
    return this.action('takeSample', takeSampleImpl(withReplacement, num, seed, countJob), {
      withReplacement,
      num,
      seed,
    });
  }

  /**
   * Spark's `zipWithIndex`: each record paired with its position in the dataset (partition
   * order, then order within the partition), from 0. A transformation that runs a job: with more
   * than one partition, a hidden job first counts the records of every partition but the last,
   * as Spark's does; its counts are kept for the run.
   */
  zipWithIndex(): Dataset<[T, number]> {
    const builder = this.builder;
    let countJob = -1;
    const zipped = this.narrow<[T, number]>('zipWithIndex', (partition, numPartitions) => {
      const counts = builder.task!.hiddenJobResult(countJob) as number[];
      let index = startOffsets(counts, numPartitions)[partition]!;
      return (b) => b.map((r) => [r, index++]);
    });
    countJob = registerHiddenJob(builder, {
      op: 'countPartitions',
      nodeId: this.id,
      options: { allButLast: true },
      impl: countPartitionsImpl((n) => Array.from({ length: n - 1 }, (_, p) => p)),
      purpose: 'counting the records of each partition',
      neededByNode: zipped.id,
      withoutJob: (n) => (n === 1 ? [] : undefined),
    });
    return zipped;
  }

  /**
   * Spark's `zipWithUniqueId`: each record paired with a unique id — the k-th record of
   * partition p of n gets `k·n + p` — without running a job; ids are not consecutive.
   */
  zipWithUniqueId(): Dataset<[T, number]> {
    return this.narrow('zipWithUniqueId', (partition, numPartitions) => {
      let k = 0;
      return (b) => b.map((r) => [r, k++ * numPartitions + partition]);
    });
  }
}

declare module '../sql/dataframe.js' {
  interface DataFrame {
    /**
     * Spark's `df.rdd`: a Dataset of the rows as plain objects by column name, in the DataFrame's
     * partitions; values as `collect()` gives them (docs/dataframes.md, "Datasets and DataFrames").
     */
    rdd(): Dataset<Row>;
  }
}

// Declared here, not in dataframe.ts: the DataFrame must not import the Dataset (one-way imports),
// and every graph that has a DataFrame has loaded this file (the job context imports it).
DataFrame.prototype.rdd = function rdd(this: DataFrame): Dataset<Row> {
  const site = currentCallSite();
  const label = site === undefined ? 'rdd' : `rdd at ${site}`;
  const node = this.env.planner.nodeOf(this.plan, 'rdd input');
  return new Dataset<Row>(this.env.builder, addBridgeExchange(this.env.builder, node, 'rdd', label));
};

/** Checks an action's count of records (take, top, takeOrdered): a non-negative integer. */
function checkCount(n: number, op: string): void {
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`${op}: n must be a non-negative integer, got ${n}`);
}
