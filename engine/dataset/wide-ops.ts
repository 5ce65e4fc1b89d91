/**
 * Node specs for the wide (shuffle) operations, as Spark builds them: combineByKey and
 * friends are ShuffledRDDs with an Aggregator (map-side combine except for groupByKey),
 * sorts are range-partitioned ShuffledRDDs with a key ordering, joins are a cogroup
 * followed by a narrow flatMapValues.
 */

import type { Aggregator, ShuffleDependency } from '../plan/nodes.js';
import type { GraphBuilder, NodeSpec } from './graph-builder.js';
import { checkPartitionCount } from './graph-builder.js';
import { knownHashPartitioner } from './known-partitioning.js';

function clone<T>(value: T): T {
  return value === null || typeof value !== 'object' ? value : structuredClone(value);
}

/** Aggregator of reduceByKey. */
export function reduceAggregator(f: (a: unknown, b: unknown) => unknown): Aggregator {
  return { createCombiner: (v) => v, mergeValue: f, mergeCombiners: f };
}

/** Aggregator of foldByKey/aggregateByKey: each key starts from its own copy of `zero`. */
export function zeroAggregator(
  zero: unknown,
  seqOp: (acc: unknown, v: unknown) => unknown,
  combOp: (a: unknown, b: unknown) => unknown,
): Aggregator {
  return { createCombiner: (v) => seqOp(clone(zero), v), mergeValue: seqOp, mergeCombiners: combOp };
}

/** Aggregator of groupByKey: a list per key (no map-side combine, as Spark). */
export const groupAggregator: Aggregator = {
  createCombiner: (v) => [v],
  mergeValue: (c, v) => {
    (c as unknown[]).push(v);
    return c;
  },
  mergeCombiners: (a, b) => {
    for (const v of b as unknown[]) (a as unknown[]).push(v);
    return a;
  },
};

/** Aggregator of cogroup over `n` parents: values arrive tagged `[parentIndex, value]`. */
export function cogroupAggregator(n: number): Aggregator {
  return {
    createCombiner: (tagged) => {
      const groups: unknown[][] = Array.from({ length: n }, () => []);
      const [tag, v] = tagged as [number, unknown];
      groups[tag]!.push(v);
      return groups;
    },
    mergeValue: (c, tagged) => {
      const [tag, v] = tagged as [number, unknown];
      (c as unknown[][])[tag]!.push(v);
      return c;
    },
    mergeCombiners: (a, b) => {
      const ga = a as unknown[][];
      (b as unknown[][]).forEach((group, i) => {
        for (const v of group) ga[i]!.push(v);
      });
      return ga;
    },
  };
}

/** Resolve a wide op's partition count: the given one, else the graph's default parallelism. */
export function widePartitions(builder: GraphBuilder, op: string, n: number | undefined): number {
  checkPartitionCount(n, op);
  return n ?? builder.defaultParallelism;
}

/** Spec of a hash-partitioned shuffled node, optionally aggregating. */
export function shuffledSpec(
  builder: GraphBuilder,
  op: string,
  parent: number,
  n: number | undefined,
  aggregation: { aggregator: Aggregator; mapSideCombine: boolean } | undefined,
  keyed = true,
): NodeSpec {
  const numPartitions = widePartitions(builder, op, n);
  const dep = {
    shuffleId: builder.nextShuffleId(),
    parent,
    keyed,
    mapSideCombine: aggregation?.mapSideCombine ?? false,
  };
  return {
    op,
    parents: [parent],
    requestedPartitions: numPartitions,
    options: { numPartitions, mapSideCombine: dep.mapSideCombine },
    impl: aggregation
      ? { type: 'shuffled', dep, partitioning: 'hash', aggregator: aggregation.aggregator }
      : { type: 'shuffled', dep, partitioning: 'hash' },
  };
}

/** Spec of a sort: range-partitioned by bounds from a sampling job, sorted within each partition. */
export function sortSpec(
  builder: GraphBuilder,
  parent: number,
  ascending: boolean,
  n: number | undefined,
): NodeSpec {
  const numPartitions = widePartitions(builder, 'sortByKey', n);
  const dep = { shuffleId: builder.nextShuffleId(), parent, keyed: true, mapSideCombine: false };
  return {
    op: 'sortByKey',
    parents: [parent],
    requestedPartitions: numPartitions,
    options: { numPartitions, ascending },
    impl: { type: 'shuffled', dep, partitioning: 'range', sort: { ascending } },
  };
}

/**
 * Spec of a cogroup of `parents` into `[key, [values of parent 0, values of parent 1, …]]`.
 * As Spark's CoGroupedRDD: without `n`, the partitioner of a hash-partitioned parent is used
 * (Spark's defaultPartitioner, the largest such parent); a parent already hash-partitioned into
 * the cogroup's partition count is then read one-to-one (a narrow dependency), and only the
 * other parents are shuffled — the partitioned side of a join moves no data.
 */
export function cogroupSpec(
  builder: GraphBuilder,
  op: string,
  parents: number[],
  n: number | undefined,
): NodeSpec {
  checkPartitionCount(n, op);
  const partitioned = parents.map((p) => knownHashPartitioner(builder.nodes, p)?.numPartitions);
  const inherited = Math.max(0, ...partitioned.map((k) => k ?? 0));
  const numPartitions = n ?? (inherited > 0 ? inherited : builder.defaultParallelism);
  const narrowParents: number[] = [];
  const deps: ShuffleDependency[] = [];
  parents.forEach((parent, index) => {
    if (partitioned[index] === numPartitions) narrowParents.push(index);
    else deps.push({ shuffleId: builder.nextShuffleId(), parent, keyed: true, mapSideCombine: false });
  });
  return {
    op,
    parents,
    requestedPartitions: numPartitions,
    options: narrowParents.length > 0 ? { numPartitions, narrowParents } : { numPartitions },
    impl: narrowParents.length > 0 ? { type: 'cogroup', deps, narrowParents } : { type: 'cogroup', deps },
  };
}
