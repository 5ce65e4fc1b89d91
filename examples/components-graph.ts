/**
 * Connected components, step 0: the graph as adjacency lists, partitioned once by vertex, and every
 * vertex labelled with its own id — both handed to the driver script as dataset handles.
 * Input: text lines `a b`, one undirected edge each (a local file or az:// blob).
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { input: string; partitions: number }) => {
  const edges = ctx.textFile(p.input).flatMap((line): [number, number][] => {
    const [a, b] = line.trim().split(/\s+/).map(Number);
    return a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b)
      ? []
      : [
          [a, b],
          [b, a],
        ];
  });
  const neighbours = edges.groupByKey(p.partitions);
  const labels = neighbours.map(([vertex]) => [vertex, vertex] as [number, number]).partitionBy(p.partitions);
  return { graph: neighbours.handle(), labels: labels.handle() };
});
