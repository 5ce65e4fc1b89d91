/**
 * What the scheduler writes for and reads from a stage's tasks: the broadcast value blobs
 * (once per run), the stage descriptor blob every task of the stage reads (params, plan,
 * input splits, map-output tables, cached partitions, broadcasts, save target), and result
 * partials that came back through blobs.
 */

import { broadcastBlobName, DATA_CONTAINER } from '../../contract/names.js';
import { blobDigest } from '../../contract/signing.js';
import { isSaveOp } from '../../engine/dataset/actions.js';
import { encodeBroadcastValue } from '../../engine/dataset/shared-variables.js';
import type { JobGraph } from '../../engine/plan/graph.js';
import type { InputSplit, SaveTarget, StageDescriptorInput } from '../../engine/plan/stage-descriptor.js';
import type { JobPlan, StagePlan } from '../../engine/plan/stages.js';
import { getCodec } from '../../engine/records/codec.js';
import { fromTaggedJson, type JsonValue, toTaggedJson } from '../../engine/records/tagged-json.js';
import { relationalStageProgram } from '../../engine/sql/program.js';
import { parseBlobTarget } from '../data/output-committer.js';
import type { BlobPort } from './ports.js';
import type { PinnedBlob, RunState } from './run-state.js';

/**
 * Encode every broadcast value of the driver's graph and upload it under the run's `scope`;
 * returns broadcast id → blob and the sha256 of its bytes, which every stage descriptor pins.
 * Call once per run, before any task: executors use these values, never their own rebuild's.
 * Throws BROADCAST_NOT_ENCODABLE for a value the record codec cannot carry.
 */
export async function uploadBroadcasts(
  blobs: BlobPort,
  scope: string,
  graph: JobGraph,
): Promise<Map<number, PinnedBlob>> {
  const encoded = [...graph.broadcastValues()].map(([id, value]) => ({
    id,
    blob: broadcastBlobName(scope, id),
    bytes: encodeBroadcastValue(id, value),
  }));
  const names = new Map<number, PinnedBlob>();
  let next = 0;
  const worker = async () => {
    while (next < encoded.length) {
      const { id, blob, bytes } = encoded[next++]!;
      await blobs.put(DATA_CONTAINER, blob, bytes);
      names.set(id, { blob, sha256: blobDigest(bytes) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, encoded.length) }, worker));
  return names;
}

/**
 * The settings a stage descriptor copies from the scheduler's environment (the DAG scheduler's
 * SchedulerEnv has them); declared here so stage I/O does not import the scheduler that calls it.
 */
export interface StageDescriptorEnv {
  /** The application whose blobs the stage's tasks read and write. */
  appId: string;
  /** Per-task memory budget before spilling (bytes). */
  memoryBudgetBytes: number;
  /** Results whose JSON is at most this size travel inline in events. */
  inlineResultMaxBytes: number;
}

/** The descriptor's `sql` field: the parses a rebuild of the graph needs, when the builder ran ctx.sql. */
function sqlParsesOf(graph: JobGraph): { sql?: Record<string, unknown> } {
  const parses = graph.sqlParses();
  return Object.keys(parses).length > 0 ? { sql: { ...parses } } : {};
}

/** The descriptor's `scanSizes` field: the scan sizes the graph was built with, when it was. */
function scanSizesOf(graph: JobGraph): { scanSizes?: Record<string, number> } {
  const sizes = graph.scanSizes();
  return Object.keys(sizes).length > 0 ? { scanSizes: { ...sizes } } : {};
}

/** The descriptor of one stage of `plan` for application-wide ids `jobId` / `stageId`. */

export function buildStageDescriptor(
  env: StageDescriptorEnv,
  state: RunState,
  plan: JobPlan,
  stage: StagePlan,
  jobId: number,
  stageId: number,
): StageDescriptorInput {
  const inputs: Record<string, InputSplit[][]> = {};
  const shuffles: Record<string, { tableBlob: string; sha256: string }> = {};
  const cached: Record<string, string[]> = {};
  for (const nodeId of stage.pipeline) {
    const splits = state.inputs.get(nodeId);
    if (splits) inputs[String(nodeId)] = splits;
  }
  for (const read of stage.shuffleReads) {
    const table = state.shuffleTables.get(read.shuffleId);
    if (!table)
      throw new Error(`internal: stage ${stageId} reads shuffle ${read.shuffleId} before it exists`);
    shuffles[String(read.shuffleId)] = { tableBlob: table.blob, sha256: table.sha256 };
  }
  for (const nodeId of stage.cacheReads) {
    const blobs = state.cached.get(nodeId);
    if (!blobs) throw new Error(`internal: stage ${stageId} reads node ${nodeId}, which is not cached`);
    cached[String(nodeId)] = blobs as string[];
  }
  const broadcasts: Record<string, { blob: string; sha256: string }> = {};
  for (const [id, pinned] of state.broadcasts) broadcasts[String(id)] = { ...pinned };
  const action = stage.kind === 'result' ? state.graph.resolveAction(plan.action) : undefined;
  const relational = relationalStageProgram(state.graph, plan, stage);
  const isSave = action !== undefined && isSaveOp(action.op);
  return {
    v: 1,
    appId: env.appId,
    scope: state.scope,
    jobId,
    stageId,
    codeHash: state.codeHash,
    fingerprint: plan.fingerprint,
    parallelizeDigests: state.graph.parallelizeDigests,
    ...sqlParsesOf(state.graph),
    ...scanSizesOf(state.graph),
    // Tagged JSON: Dates, bigints, Maps… in params arrive as they are.
    params: toTaggedJson(state.params),
    defaultParallelism: state.defaultParallelism,
    plan: stage as unknown as Record<string, unknown>,
    inputs,
    shuffles,
    cached,
    broadcasts,
    memoryBudgetBytes: env.memoryBudgetBytes,
    inlineResultMaxBytes: env.inlineResultMaxBytes,
    ...(isSave ? { save: saveTarget(state, jobId, String(action.options.path)) } : {}),
    ...(relational ? { relational: relational as unknown as Record<string, unknown> } : {}),
  };
}

/** Where a save stage's tasks write: attempt blobs, and for an az:// target its container and prefix. */
function saveTarget(state: RunState, jobId: number, path: string): SaveTarget {
  const remote = parseBlobTarget(path);
  return { attemptPrefix: state.savePrefix(jobId), ...(remote ? { blobTarget: remote } : {}) };
}

/**
 * Download results that came through blobs (up to 8 at once); partials in partition order. A
 * blob holds one record of the codec the executor named, or (`codec` undefined: an executor
 * of an earlier release) the result's JSON.
 */
export async function fetchResultPartials(
  blobs: BlobPort,
  inline: readonly unknown[],
  resultBlobs: readonly ({ blob: string; codec: string | undefined } | undefined)[],
): Promise<unknown[]> {
  const partials = inline.slice();
  const pending = resultBlobs.map((blob, p) => ({ blob, p })).filter((x) => x.blob !== undefined);
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      const { blob, p } = pending[next++]!;
      const bytes = await blobs.get(DATA_CONTAINER, blob!.blob);
      partials[p] = decodeResultBlob(bytes, blob!.codec);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, pending.length) }, worker));
  return partials;
}

/** The result a result blob holds: one record of `codec`, or JSON when no codec is named. */
export function decodeResultBlob(bytes: Buffer, codec: string | undefined): unknown {
  if (codec === undefined) return JSON.parse(bytes.toString('utf8'));
  const records = getCodec(codec).decode(bytes);
  if (records.length !== 1) throw new Error(`internal: a result blob holds ${records.length} records, not 1`);
  return records[0];
}

/** An inline result as the event carried it: tagged JSON (`tagged`), or plain JSON from an earlier executor. */
export function decodeInlineResult(inline: unknown, tagged: boolean | undefined): unknown {
  return tagged ? fromTaggedJson(inline as JsonValue) : inline;
}
