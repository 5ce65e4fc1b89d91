/**
 * Checks the driver makes on values it knows before any task runs, so that a value the record
 * encoding cannot carry fails the run at once, naming where it is, rather than in a task.
 * (Params and broadcast values are checked where they are shipped: driver/app/params.ts,
 * encodeBroadcastValue.)
 */
import { RecordEncodingError } from '../records/record-codec.js';
import { classifyValue, UNSUPPORTED, unsupportedValue } from '../records/record-values.js';
import type { JobGraph } from './graph.js';
import { nodeLabel } from './nodes.js';

/**
 * Throw RecordEncodingError (not retryable) for the first element of a `parallelize` array that
 * is not a record value, naming the operation and the element's path (`data[5].f: a function`).
 */
export function checkParallelizeData(graph: JobGraph): void {
  for (const node of graph.nodes) {
    if (node.impl.type !== 'parallelize') continue;
    const data = node.impl.data;
    for (let i = 0; i < data.length; i++) {
      if (classifyValue(data[i]) !== UNSUPPORTED) continue;
      throw new RecordEncodingError(nodeLabel(node), unsupportedValue(data[i], `data[${i}]`) ?? `data[${i}]`);
    }
  }
}
