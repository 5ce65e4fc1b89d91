/**
 * The sizes of a build's file scans (Spark's sizeInBytes of a file relation), known only once the
 * driver has listed the inputs: the driver builds the graph, lists its scans, and builds it again
 * with the sizes attached, so a join can broadcast a small scanned side. Scans are named by their
 * ordinal: the n-th `ctx.read.*` call of the build, which is the same in every build of the job
 * with the same params. The sizes travel with the run, so an executor's rebuild makes the same
 * choices. A leaf: the session registers scans, the planner reads sizes, the driver attaches them.
 */
import type { GraphBuilder } from '../dataset/graph-builder.js';

/** Estimated bytes of each file scan of a build, by scan ordinal (as a string key: JSON-safe). */
export type ScanSizes = Readonly<Record<string, number>>;

const ordinals = new WeakMap<object, number>();
const counters = new WeakMap<GraphBuilder, number>();
const attached = new WeakMap<GraphBuilder, ScanSizes>();

/** Give the scan input of a new `ctx.read.*` DataFrame its ordinal in this build. */
export function registerScan(builder: GraphBuilder, input: object): void {
  const n = counters.get(builder) ?? 0;
  counters.set(builder, n + 1);
  ordinals.set(input, n);
}

/** The ordinal of a scan input (the object a scan's fragment holds), if it came from ctx.read. */
export function scanOrdinalOf(input: object): number | undefined {
  return ordinals.get(input);
}

/** Give a build the scan sizes the driver found (buildJobGraph calls this before running the builder). */
export function attachScanSizes(builder: GraphBuilder, sizes: ScanSizes): void {
  attached.set(builder, sizes);
}

/** The scan sizes a build was given (empty when none: the driver's first build, or a graph without scans). */
export function attachedScanSizes(builder: GraphBuilder): ScanSizes {
  return attached.get(builder) ?? {};
}

/** The estimated bytes of a scan input in this build; undefined when the build was given none. */
export function scanSizeOf(builder: GraphBuilder, input: object): number | undefined {
  const n = ordinals.get(input);
  if (n === undefined) return undefined;
  const sizes = attached.get(builder);
  return sizes && Object.hasOwn(sizes, String(n)) ? sizes[String(n)] : undefined;
}
