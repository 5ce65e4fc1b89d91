/**
 * What the builder knows of a dataset's partitioning while it builds the graph — before the
 * driver splits file sources or a sampling job finds a sort's bounds. Spark's RDD knows its
 * `partitions` and `partitioner` at construction; a stratus node knows its partition count
 * exactly for parallelize and hash shuffles (and what derives from them), and only an estimate
 * for file sources (their minPartitions, a lower bound) and sorts (the count asked for, an upper
 * bound). A hash-partitioned node (reduceByKey, groupByKey, partitionBy, cogroup, joins…) and
 * the narrow nodes that keep keys where they are (mapValues, filter…: `preservesPartitioning`)
 * have a known partitioner, as in Spark.
 */
import type { GraphNode } from '../plan/nodes.js';
import { HashPartitioner } from '../shuffle/partitioner.js';

/** The partition count of node `id` as known when the graph is built: exact, or an estimate (see above). */
export function buildTimePartitionCount(nodes: readonly GraphNode[], id: number): number {
  const node = nodes[id]!;
  const parent = () => buildTimePartitionCount(nodes, node.parents[0]!);
  switch (node.impl.type) {
    case 'parallelize':
    case 'file':
    case 'shuffled':
    case 'cogroup':
    case 'handle':
      return node.requestedPartitions ?? 1;
    case 'union':
      return node.parents.reduce((n, p) => n + buildTimePartitionCount(nodes, p), 0);
    case 'coalesce':
      return Math.min(node.requestedPartitions!, parent());
    default:
      return parent();
  }
}

/** The hash partitioner that placed node `id`'s records by key, when the graph says so (Spark's `partitioner`). */
export function knownHashPartitioner(nodes: readonly GraphNode[], id: number): HashPartitioner | undefined {
  const node = nodes[id]!;
  const impl = node.impl;
  if (impl.type === 'shuffled') {
    return impl.partitioning === 'hash' && impl.dep.keyed
      ? new HashPartitioner(node.requestedPartitions!)
      : undefined;
  }
  if (impl.type === 'cogroup') return new HashPartitioner(node.requestedPartitions!);
  if (impl.type === 'handle')
    return impl.handle.hashPartitions === null ? undefined : new HashPartitioner(impl.handle.hashPartitions);
  if (impl.type === 'narrow' && impl.preservesPartitioning)
    return knownHashPartitioner(nodes, node.parents[0]!);
  return undefined;
}
