/**
 * One round of connected components by label propagation (the RDD formulation of GraphX's
 * connectedComponents): each vertex sends its label to its neighbours and keeps the smallest label
 * it sees. The graph and the labels are handles partitioned alike, so both joins are in place; the
 * one shuffle gathers the labels sent. Only the number of labels that changed reaches the driver.
 */
import { type DatasetHandle, defineJob } from 'stratus';

export interface ComponentsParams {
  graph: DatasetHandle<[number, number[]]>;
  labels: DatasetHandle<[number, number]>;
  partitions: number;
}

export default defineJob((ctx, p: ComponentsParams) => {
  const graph = ctx.fromHandle(p.graph);
  const labels = ctx.fromHandle(p.labels);
  const sent = graph
    .join(labels, p.partitions)
    .values()
    .flatMap(([neighbours, label]) => neighbours.map((v) => [v, label] as [number, number]));
  const next = sent
    .reduceByKey((a, b) => Math.min(a, b), p.partitions)
    .join(labels, p.partitions)
    .mapValues(([received, own]) => Math.min(received, own));
  return {
    labels: next.handle(),
    changed: next
      .join(labels, p.partitions)
      .filter(([, [now, before]]) => now !== before)
      .count(),
  };
});
