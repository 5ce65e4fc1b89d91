/**
 * File sources of a plan: the description the driver resolves and splits into input partitions
 * before planning, and that a task's TaskIO reads a partition of. Kept apart from graph.ts so
 * the task I/O port (task/task-io.ts) can name a source without importing the whole job graph,
 * which imports the Dataset API, whose save actions import the task I/O port.
 */
import type { CsvFormat } from '../records/csv.js';
import { isWholeFileFormat } from '../records/whole-files.js';
import type { GraphNode } from './nodes.js';

/** A file source the driver must resolve and split before planning (its partition count is known then). */
export interface SourceNodeInfo {
  nodeId: number;
  kind: 'textFile' | 'jsonLines' | 'csv' | 'wholeTextFiles' | 'binaryFiles' | 'parquet';
  /** The path or glob exactly as the builder gave it. */
  uri: string;
  minPartitions: number;
  /** CSV sources: the format (the driver reads the first file's header when `csv.header` is set). */
  csv?: CsvFormat;
  /** The accumulator counting skipped bad records, for sources with `badRecords: 'skip'`. */
  badRecordsAccumulator?: string;
  /**
   * Whole-file sources: files are never split but packed into partitions (whole-file-partitions.ts);
   * `binary` files are read as stored (a `.gz` is not decompressed).
   */
  wholeFiles?: { binary: boolean };
}

const KINDS = {
  text: 'textFile',
  'json-lines': 'jsonLines',
  csv: 'csv',
  'whole-text': 'wholeTextFiles',
  binary: 'binaryFiles',
} as const satisfies Record<string, SourceNodeInfo['kind']>;

/** The SourceNodeInfo of a file node (undefined for other nodes). */
export function sourceNodeInfo(node: GraphNode): SourceNodeInfo | undefined {
  const impl = node.impl;
  if (impl.type === 'relational') {
    // A DataFrame scan: Parquet files are one split each; CSV and JSON Lines split on lines.
    const input = impl.fragment.input;
    if (input.kind !== 'scan') return undefined;
    const kind = input.format === 'parquet' ? 'parquet' : input.format === 'csv' ? 'csv' : 'jsonLines';
    return { nodeId: node.id, kind, uri: input.uri, minPartitions: node.requestedPartitions ?? 1 };
  }
  if (impl.type !== 'file') return undefined;
  const kind = KINDS[impl.format];
  const info: SourceNodeInfo = {
    nodeId: node.id,
    kind,
    uri: impl.uri,
    minPartitions: node.requestedPartitions ?? 1,
  };
  if (impl.csv) info.csv = impl.csv;
  if (impl.badRecordCounter) info.badRecordsAccumulator = impl.badRecordCounter.name;
  if (isWholeFileFormat(impl.format)) info.wholeFiles = { binary: impl.format === 'binary' };
  return info;
}
