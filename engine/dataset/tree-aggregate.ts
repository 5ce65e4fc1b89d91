/**
 * treeAggregate and treeReduce, as Spark's RDD.treeAggregate: instead of the driver merging one
 * partial per partition, partials are merged in `depth − 1` or fewer levels of executors first.
 * Spark picks `scale = max(⌈n^(1/depth)⌉, 2)` and, while `n > scale + ⌈n / scale⌉`, adds a level
 * of `n = ⌊n / scale⌋` partitions where partial i goes to partition i mod n.
 *
 * On stratus each level is a real shuffle, so it shows as a stage in `stratus explain` and the
 * run: the level's map tasks key their records by their own partition index, a hash shuffle with
 * map-side combine merges them (one combiner per key per map task), and the values go on. The
 * first level folds the input itself (aggregateByKey's combiner: seqOp from a copy of zero; for
 * treeReduce, reduceByKey's), so no partition is materialised; later levels merge partials with
 * combOp. The result stage's partials are then merged on the driver: for treeAggregate
 * `combOp(zero, all)`, for treeReduce the reduce of all (EMPTY_COLLECTION when there is none).
 *
 * The levels are nodes of the graph, so they are fixed when the builder runs: the tree's shape
 * comes from the input's partition count as the builder knows it (known-partitioning.ts: exact
 * for parallelize and shuffles, minPartitions for a file source). With depth 1, or too few
 * partitions for a level to pay, there is no level and the action is aggregate / reduce itself.
 * As in Spark, zero must be neutral for combOp and combOp associative and commutative: the tree
 * merges partials in another order, and with a different number of zeros, than aggregate.
 */
import { asUserCodeError, ConfigError } from '../../contract/errors.js';
import type { Aggregator } from '../plan/nodes.js';
import { type ActionImpl, actionImpls } from './actions.js';
import type { GraphBuilder } from './graph-builder.js';
import { buildTimePartitionCount } from './known-partitioning.js';
import { reduceAggregator, shuffledSpec, zeroAggregator } from './wide-ops.js';

type Combine = (a: unknown, b: unknown) => unknown;

/** The partition counts of the tree's levels for `n` input partitions (Spark's loop); none for depth 1. */
export function treeLevels(n: number, depth: number): number[] {
  const levels: number[] = [];
  if (depth <= 1) return levels;
  const scale = Math.max(Math.ceil(n ** (1 / depth)), 2);
  let current = n;
  while (current > scale + Math.ceil(current / scale)) {
    current = Math.floor(current / scale);
    levels.push(current);
  }
  return levels;
}

/** Checks a user-given depth (Spark: `depth >= 1`). */
export function checkDepth(depth: number, op: string): void {
  if (!Number.isInteger(depth) || depth < 1)
    throw new ConfigError(`${op}: depth must be a positive integer, got ${depth}`);
}

function clone<T>(value: T): T {
  return value === null || typeof value !== 'object' ? value : structuredClone(value);
}

/**
 * Add the levels of a tree over node `input` to the graph: per level, key by map partition
 * index, a map-side-combining hash shuffle into the level's partitions (`first` aggregates the
 * input's records, `then` merges partials), and the values. Returns the last node's id, or
 * undefined when the tree has no level.
 */
export function addTreeLevels(
  builder: GraphBuilder,
  op: 'treeAggregate' | 'treeReduce',
  input: number,
  depth: number,
  first: Aggregator,
  then: Aggregator,
): number | undefined {
  const levels = treeLevels(buildTimePartitionCount(builder.nodes, input), depth);
  let current = input;
  levels.forEach((numPartitions, level) => {
    const keyed = builder.addNode({
      op,
      parents: [current],
      options: { depth, level },
      impl: { type: 'narrow', open: (partition) => (b) => b.map((r) => [partition % numPartitions, r]) },
    });
    const aggregator = level === 0 ? first : then;
    const merged = builder.addNode(
      shuffledSpec(builder, op, keyed, numPartitions, { aggregator, mapSideCombine: true }),
    );
    current = builder.addNode({
      op,
      parents: [merged],
      impl: { type: 'narrow', open: () => (b) => b.map((r) => (r as unknown[])[1]) },
    });
  });
  return levels.length > 0 ? current : undefined;
}

/** treeAggregate's levels (undefined: none) and the action over what they leave. */
export function treeAggregatePlan(
  builder: GraphBuilder,
  input: number,
  zero: unknown,
  seqOp: Combine,
  combOp: Combine,
  depth: number,
): { nodeId: number; impl: ActionImpl } {
  const last = addTreeLevels(
    builder,
    'treeAggregate',
    input,
    depth,
    zeroAggregator(zero, seqOp, combOp),
    reduceAggregator(combOp),
  );
  if (last === undefined)
    return { nodeId: input, impl: actionImpls.aggregate('treeAggregate', zero, seqOp, combOp) };
  const reduce = actionImpls.reduce(combOp, 'treeAggregate');
  return {
    nodeId: last,
    impl: {
      partial: reduce.partial,
      merge(partials) {
        const present = (partials as { empty: boolean; value?: unknown }[]).filter((p) => !p.empty);
        let acc = clone(zero);
        try {
          for (const p of present) acc = combOp(acc, p.value);
        } catch (error) {
          throw asUserCodeError('treeAggregate', error);
        }
        return acc;
      },
    },
  };
}

/** treeReduce's levels (undefined: none) and the action over what they leave. */
export function treeReducePlan(
  builder: GraphBuilder,
  input: number,
  f: Combine,
  depth: number,
): { nodeId: number; impl: ActionImpl } {
  const aggregator = reduceAggregator(f);
  const last = addTreeLevels(builder, 'treeReduce', input, depth, aggregator, aggregator);
  return { nodeId: last ?? input, impl: actionImpls.reduce(f, 'treeReduce') };
}
