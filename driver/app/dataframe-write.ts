/**
 * One DataFrame write action of a run, on the driver: its partition columns checked against
 * the bound schema before any job, its save mode applied (errorifexists refuses an existing
 * output, ignore skips the job), the job run, and its winning part files committed.
 */
import type { ActionRef, SaveResult } from '../../engine/dataset/actions.js';
import type { JobGraph } from '../../engine/plan/graph.js';
import { boundFragmentOf, resolvePartitionColumns } from '../../engine/sql/program.js';
import type { WriteSpec } from '../../engine/sql/write-spec.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { commitDataFrameOutput, prepareDataFrameWrite } from '../data/dataframe-output-committer.js';
import type { DAGScheduler } from '../scheduler/dag-scheduler.js';
import type { RunState } from '../scheduler/run-state.js';

/** Run the write action `ref` (named `name`) and commit its output; returns the save's result. */
export async function runDataFrameWrite(
  scheduler: DAGScheduler,
  state: RunState,
  blobs: BlobStore,
  graph: JobGraph,
  ref: ActionRef,
  name: string,
  spec: WriteSpec,
): Promise<SaveResult> {
  const action = graph.resolveAction(ref);
  const target = String(action.options.path);
  resolvePartitionColumns(spec, boundFragmentOf(graph.node(action.nodeId)).bound.output.fields);
  if (!(await prepareDataFrameWrite(blobs, target, spec.mode))) {
    // Spark's SaveMode.Ignore: the output exists, so nothing is computed or written.
    return { path: target, partitions: 0, records: 0 };
  }
  const outcome = await scheduler.runAction(state, ref, name);
  if (outcome.savedParts) await commitDataFrameOutput(blobs, target, outcome.savedParts, spec.mode);
  return outcome.result as SaveResult;
}
