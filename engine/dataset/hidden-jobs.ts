/**
 * Hidden jobs: jobs the engine runs on its own before a node or an action can compute, as Spark
 * runs a job inside some RDD methods — zipWithIndex counts the records of each partition
 * (ZippedWithIndexRDD), histogram(bucketCount) finds the range of the values first, takeSample
 * counts before it samples. A job builder cannot run a job, so the Dataset method registers one
 * here, and planJob asks the driver to run it first (`needsHiddenJob`), as it does for a sort's
 * sampling job. Each is a real job: it shows in `stratus explain`, the run's events and the UI.
 *
 * The hidden job's merged result (small JSON) is kept by the driver for the rest of the run, so
 * a later job of the same run does not run it again, and travels to tasks in their stage plan
 * (StagePlan.hiddenResults): node closures read it through the task binding, action partials and
 * merges through their HiddenResults argument.
 *
 * The registry lives beside the builder (a WeakMap), not on it: GraphBuilder is imported by
 * actions.ts, and a HiddenJob holds an Action, so a field typed here would close an import cycle.
 */

import type { OptionValue } from '../plan/option-value.js';
import { Action, type ActionImpl, type ActionOp } from './actions.js';
import type { GraphBuilder } from './graph-builder.js';

/** A hidden job of a graph. */
export interface HiddenJob {
  /** Its index in the graph's hidden jobs (construction order, so executors agree). */
  readonly id: number;
  /** The action it runs, over the dataset it scans. */
  readonly action: Action<unknown>;
  /** What it is for, as run events and explain say it: "counting the records of each partition". */
  readonly purpose: string;
  /** The node whose tasks read its result (zipWithIndex); undefined when an action reads it. */
  readonly neededByNode?: number;
  /**
   * Its result without running it, from the scanned dataset's partition count, when that is
   * enough (zipWithIndex of one partition starts at 0); undefined when the job must run.
   */
  readonly withoutJob?: (numPartitions: number) => unknown;
}

const registries = new WeakMap<GraphBuilder, HiddenJob[]>();

/** The hidden jobs registered on `builder`, by id. */
export function hiddenJobsOf(builder: GraphBuilder): readonly HiddenJob[] {
  return registries.get(builder) ?? [];
}

/** What registerHiddenJob needs. */
export interface HiddenJobSpec {
  op: ActionOp;
  /** The dataset it scans. */
  nodeId: number;
  options?: Record<string, OptionValue>;
  impl: ActionImpl;
  purpose: string;
  neededByNode?: number;
  withoutJob?: (numPartitions: number) => unknown;
}

/**
 * Register a hidden job and return its id. The same op over the same node with the same options
 * (two takeSample of one dataset) is one job: its id is returned again and it runs once.
 */
export function registerHiddenJob(builder: GraphBuilder, spec: HiddenJobSpec): number {
  const jobs = registries.get(builder) ?? [];
  registries.set(builder, jobs);
  const options = spec.options ?? {};
  const same = jobs.find(
    (j) =>
      j.neededByNode === undefined &&
      spec.neededByNode === undefined &&
      j.action.op === spec.op &&
      j.action.nodeId === spec.nodeId &&
      JSON.stringify(j.action.options) === JSON.stringify(options),
  );
  if (same) return same.id;
  const id = jobs.length;
  jobs.push({
    id,
    action: new Action(spec.op, spec.nodeId, options, spec.impl, builder),
    purpose: spec.purpose,
    ...(spec.neededByNode !== undefined ? { neededByNode: spec.neededByNode } : {}),
    ...(spec.withoutJob ? { withoutJob: spec.withoutJob } : {}),
  });
  return id;
}

/**
 * A hidden job's action that counts the records of each computed partition; its merged result
 * is the counts, in partition order (of the partitions `partitions` picks, all by default).
 */
export function countPartitionsImpl(partitions?: (numPartitions: number) => number[]): ActionImpl {
  return {
    async partial(batches) {
      let n = 0;
      for await (const batch of batches) n += batch.length;
      return n;
    },
    merge: (partials) => partials as number[],
    ...(partitions ? { partitions } : {}),
  };
}

/** Start offsets of every partition from the counts of the partitions before it (offsets[0] = 0). */
export function startOffsets(counts: readonly number[], numPartitions: number): number[] {
  const offsets = [0];
  for (let p = 1; p < numPartitions; p++) offsets.push(offsets[p - 1]! + (counts[p - 1] ?? 0));
  return offsets;
}
