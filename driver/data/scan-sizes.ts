/**
 * Automatic broadcast of small file scans (Spark's spark.sql.autoBroadcastJoinThreshold applied
 * to file relations). A job's graph is built before its inputs are listed, so its first build
 * knows no scan's size. The driver lists the inputs once (run-inputs.ts), takes each scan's size
 * from that listing (scanSizesFromListing), and builds the graph again with the sizes attached
 * (engine/sql/scan-sizes.ts); when a join now broadcasts a side, the second graph replaces the
 * first and the listing is carried over to the second graph's node ids (remapSourceInputs) —
 * no storage request is repeated. The sizes then travel in every stage descriptor, so executors
 * rebuild the same graph. A Parquet scan is sized by the columns it reads (parquetScanBytes): the
 * driver binds the first graph to learn them (the binder's readColumns), as Spark sizes a pruned
 * file relation by the columns it keeps.
 */
import type { JobGraph } from '../../engine/plan/graph.js';
import type { InputSplit } from '../../engine/plan/stage-descriptor.js';
import { pushedFilters } from '../../engine/sql/parquet-pruning.js';
import { type ScanSizes, scanOrdinalOf } from '../../engine/sql/scan-sizes.js';
import type { ParquetScanPlan } from './parquet-inputs.js';
import type { RunInputs } from './run-inputs.js';

/** Bytes a listed partition's splits cover: each split's byte range (a whole file when it has no end). */
export function splitBytes(partitions: readonly (readonly InputSplit[])[]): number {
  let bytes = 0;
  for (const splits of partitions)
    for (const split of splits) bytes += Math.max(0, (split.end ?? split.fileSize ?? 0) - (split.start ?? 0));
  return bytes;
}

/**
 * The columns a bound Parquet scan node's fragment reads (lower case), as its tasks fetch them;
 * undefined when the node is not a bound Parquet scan (the graph was not bound, or failed to bind).
 */
export function scanReadColumns(graph: JobGraph, nodeId: number): string[] | undefined {
  const impl = graph.node(nodeId).impl;
  if (impl.type !== 'relational') return undefined;
  return impl.fragment.bound?.readColumns?.map((c) => c.toLowerCase());
}

/**
 * A Parquet scan's size estimate: the compressed bytes of the column chunks of the columns it
 * reads in the row groups it keeps (a column its files lack, such as a Hive partition column,
 * adds nothing); every column's (`estimatedBytes`) when the columns read are unknown.
 */
export function parquetScanBytes(
  plan: Pick<ParquetScanPlan, 'estimatedBytes' | 'columnBytes'>,
  readColumns: readonly string[] | undefined,
): number {
  if (readColumns === undefined) return plan.estimatedBytes;
  return [...new Set(readColumns)].reduce((n, c) => n + (plan.columnBytes.get(c) ?? 0), 0);
}

/**
 * Each DataFrame file scan's estimated bytes by scan ordinal, from what the listing found for its
 * node (`bytesOf`: undefined for a node not listed). A scan read by several nodes (one DataFrame
 * in two joins) takes the largest of their estimates.
 */
export function scanSizesFromListing(
  graph: JobGraph,
  bytesOf: (nodeId: number) => number | undefined,
): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const source of graph.sources()) {
    const impl = graph.node(source.nodeId).impl;
    if (impl.type !== 'relational' || impl.fragment.input.kind !== 'scan') continue;
    const ordinal = scanOrdinalOf(impl.fragment.input);
    const bytes = bytesOf(source.nodeId);
    if (ordinal === undefined || bytes === undefined) continue;
    const key = String(ordinal);
    sizes[key] = Math.max(sizes[key] ?? 0, bytes);
  }
  return sizes;
}

/**
 * What a source node's listing depends on: its source (path, format, partitions asked for) and,
 * for a DataFrame scan, the scan options and the filters pushed into it (Parquet row groups are
 * skipped by them). Two nodes with one key are listed alike, whatever their ids.
 */
export function sourceListingKey(graph: JobGraph, nodeId: number): string {
  const node = graph.node(nodeId);
  const source = graph.sources().find((s) => s.nodeId === nodeId);
  const { nodeId: _id, ...info } = source ?? { nodeId };
  const impl = node.impl;
  const scan =
    impl.type === 'relational' && impl.fragment.input.kind === 'scan'
      ? {
          input: impl.fragment.input,
          ordinal: scanOrdinalOf(impl.fragment.input) ?? null,
          pushed: pushedFilters(impl.fragment.ops).map((f) => [f.condition, [...f.shadowed].sort()]),
        }
      : null;
  return JSON.stringify([info, scan]);
}

/**
 * Carry a listing made for `first`'s source nodes over to `second`'s, matched by listing key.
 * Returns the entries by `second`'s node ids, and the source nodes of `second` that match none
 * (to be listed on their own; none when both graphs come from one builder and params).
 */
export function remapSourceInputs<T>(
  first: JobGraph,
  second: JobGraph,
  byNode: ReadonlyMap<number, T>,
): { mapped: Map<number, T>; unmatched: number[] } {
  const byKey = new Map<string, T>();
  for (const source of first.sources()) {
    const value = byNode.get(source.nodeId);
    if (value !== undefined) byKey.set(sourceListingKey(first, source.nodeId), value);
  }
  const mapped = new Map<number, T>();
  const unmatched: number[] = [];
  for (const source of second.sources()) {
    const value = byKey.get(sourceListingKey(second, source.nodeId));
    if (value === undefined) unmatched.push(source.nodeId);
    else mapped.set(source.nodeId, value);
  }
  return { mapped, unmatched };
}

/**
 * The graph to run: `first`, or its rebuild with the listed scan sizes when that plans otherwise
 * (a join now broadcasts a small scanned side). `rebuild` builds the job again with the sizes;
 * the caller remaps its listing when the second graph is returned (`rebuilt`).
 */
export async function withScanSizes(
  first: JobGraph,
  sizes: ScanSizes,
  rebuild: (sizes: ScanSizes) => JobGraph | Promise<JobGraph>,
): Promise<{ graph: JobGraph; rebuilt: boolean }> {
  if (Object.keys(sizes).length === 0) return { graph: first, rebuilt: false };
  const second = await rebuild(sizes);
  // The same shape: keep the first graph, and the descriptors need not carry the sizes.
  if (second.fingerprint === first.fingerprint) return { graph: first, rebuilt: false };
  return { graph: second, rebuilt: true };
}

/**
 * The graph a run executes and its inputs (`stratus explain` calls it too, over a listing that
 * uploads nothing, so both decide the same broadcasts): `first` and its listing, or — when the scan sizes that
 * listing gave make a join broadcast a small scanned side — the graph rebuilt with those sizes,
 * with the listing carried over to its node ids (a source the carry-over cannot match is listed
 * by `listMore`; none is expected). With `bind`, the graph returned is bound; and when the listing
 * has Parquet scans, `first` is bound before it is sized, so each Parquet scan counts only the
 * columns it reads (scan-sizes.ts parquetScanBytes). Should `first` not bind (a join on a
 * condition that only a broadcast can plan), the scans bound before the failure (a scan binds
 * before the joins above it) count their columns, any other every column, and its error is
 * thrown only if `first` is the graph to run.
 */
export async function planWithListedSizes(
  first: JobGraph,
  listed: RunInputs,
  rebuild: (sizes: ScanSizes) => JobGraph,
  listMore: (graph: JobGraph, nodes: ReadonlySet<number>) => Promise<RunInputs>,
  bind?: (graph: JobGraph, listed: RunInputs) => Promise<void>,
): Promise<RunInputs & { graph: JobGraph }> {
  let firstBound = false;
  let firstError: { error: unknown } | undefined;
  if (bind && listed.parquetScans.size > 0) {
    try {
      await bind(first, listed);
      firstBound = true;
    } catch (error) {
      // Kept, not swallowed: thrown below when `first` is the graph that runs.
      firstError = { error };
    }
  }
  const sizes = scanSizesFromListing(first, (nodeId) => {
    const parquet = listed.parquetScans.get(nodeId);
    if (parquet) return parquetScanBytes(parquet, scanReadColumns(first, nodeId));
    const parts = listed.inputs.get(nodeId);
    return parts ? splitBytes(parts) : undefined;
  });
  const { graph, rebuilt } = await withScanSizes(first, sizes, rebuild);
  if (!rebuilt) {
    if (firstError) throw firstError.error;
    if (bind && !firstBound) await bind(first, listed);
    return { graph, ...listed };
  }
  const inputs = remapSourceInputs(first, graph, listed.inputs);
  const sourcePartitions = remapSourceInputs(first, graph, listed.sourcePartitions).mapped;
  const parquetScans = remapSourceInputs(first, graph, listed.parquetScans).mapped;
  if (inputs.unmatched.length > 0) {
    const more = await listMore(graph, new Set(inputs.unmatched));
    for (const [id, v] of more.inputs) inputs.mapped.set(id, v);
    for (const [id, v] of more.sourcePartitions) sourcePartitions.set(id, v);
    for (const [id, v] of more.parquetScans) parquetScans.set(id, v);
  }
  const planned = { graph, inputs: inputs.mapped, sourcePartitions, parquetScans };
  if (bind) await bind(graph, planned);
  return planned;
}
