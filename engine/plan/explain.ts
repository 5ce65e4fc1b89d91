/** Printable plans for `stratus explain`: each job, its stages, their partitions and pipelines. */
import type { ActionRef } from '../dataset/actions.js';
import {
  computedPartitions,
  isSamplingRequest,
  type JobPlan,
  type SamplingRequest,
  type StagePlan,
} from './stages.js';

function describeAction(ref: ActionRef, op: string): string {
  if ('name' in ref) return `action "${ref.name}" (${op})`;
  if ('hiddenJob' in ref) return `hidden job ${ref.hiddenJob} (${op})`;
  return `sampling job of sort (node ${ref.sampleSortKeys})`;
}

/** `[handle]`, `[cached]`, `[checkpoint]` (read from blobs, lineage truncated) or `[persisted: memory]` after a node's label. */
function persistTag(stage: StagePlan, id: number): string {
  if (stage.handleReads?.includes(id)) return ' [handle]';
  if (stage.cacheReads.includes(id)) return stage.checkpoints?.includes(id) ? ' [checkpoint]' : ' [cached]';
  const local = stage.localPersists?.find((l) => l.nodeId === id);
  return local ? ` [persisted: ${local.level}]` : '';
}

/**
 * A stage's name in run events, progress, explain and the UI: its pipelined operators, a node
 * read from blobs or persisted on executors tagged (`reduceByKey at a.ts:4 [checkpoint] → map…`).
 */
export function stagePipelineName(plan: JobPlan, stage: StagePlan): string {
  return stage.pipeline
    .map((id) => `${plan.nodeLabels[id] ?? `node ${id}`}${persistTag(stage, id)}`)
    .join(' → ');
}

function describeStage(plan: JobPlan, stage: StagePlan): string[] {
  const name = (id: number) => plan.nodeLabels[id] ?? `node ${id}`;
  const head = `  Stage ${stage.stageId} (${stage.kind}, ${stage.numPartitions} ${
    stage.numPartitions === 1 ? 'partition' : 'partitions'
  }${stage.partitions ? `, computing ${stage.partitions.length === 1 ? 'partition' : 'partitions'} ${stage.partitions.join(', ')} only` : ''})${
    stage.parents.length > 0 ? ` after stage ${stage.parents.join(', ')}` : ''
  }`;
  const lines = [head, `    ${stagePipelineName(plan, stage)}`];
  if (stage.aboveCache !== undefined) {
    lines.push(`    skipped: above the cached ${name(stage.aboveCache)} (listed, never run)`);
  }
  for (const read of stage.shuffleReads) {
    lines.push(`    reads shuffle ${read.shuffleId} (${read.numMapPartitions} map outputs)`);
  }
  if (stage.shuffle) {
    const s = stage.shuffle;
    const how =
      s.partitioner.kind === 'hash'
        ? 'hash'
        : s.partitioner.kind === 'direct'
          ? 'direct: each partition to its own index, the Dataset ⇄ DataFrame bridge'
          : `range, ${s.partitioner.ascending ? 'ascending' : 'descending'}, ${s.partitioner.bounds.length} bounds`;
    lines.push(
      `    writes shuffle ${s.shuffleId} → ${s.numReducePartitions} partitions (${how}${s.mapSideCombine ? ', map-side combine' : ''})`,
    );
  }
  // A stage listed above a cached dataset never runs: it reads, caches and persists nothing.
  if (stage.aboveCache !== undefined) return lines;
  const handles = stage.handleReads ?? [];
  if (handles.length > 0) {
    lines.push(
      `    reads the handle of ${handles.map(name).join(', ')} (stored by an earlier run; no parent stage)`,
    );
  }
  const checkpointed = (id: number) => stage.checkpoints?.includes(id) === true;
  const reads = stage.cacheReads.filter(checkpointed);
  if (reads.length > 0) {
    lines.push(`    reads the checkpoint of ${reads.map(name).join(', ')} (lineage truncated)`);
  }
  const cached = stage.cacheWrites.filter((id) => !checkpointed(id));
  if (cached.length > 0) lines.push(`    caches ${cached.map(name).join(', ')}`);
  const checkpoints = stage.cacheWrites.filter(checkpointed);
  if (checkpoints.length > 0) {
    lines.push(`    checkpoints ${checkpoints.map(name).join(', ')} (later jobs read it; lineage truncated)`);
  }
  for (const local of stage.localPersists ?? []) {
    lines.push(`    persists ${name(local.nodeId)} on executors (${local.level}; recomputed where missing)`);
  }
  return lines;
}

/** Multi-line text describing a job plan (or a pending sampling request). */
export function describePlan(plan: JobPlan | SamplingRequest): string {
  if (isSamplingRequest(plan)) {
    if (plan.needsHiddenJob) return `Needs a hidden job first: ${plan.needsHiddenJob.reason}`;
    const s = plan.needsSampling!;
    return `Sort (node ${s.nodeId}) needs a sampling job first to find ${s.numPartitions - 1} range bounds`;
  }
  const runnable = plan.stages.filter((s) => s.aboveCache === undefined);
  const tasks = runnable.reduce((n, s) => n + computedPartitions(s).length, 0);
  const above = plan.stages.length - runnable.length;
  const lines = [
    `Job for ${describeAction(plan.action, plan.actionOp)}: ${plan.stages.length} ${
      plan.stages.length === 1 ? 'stage' : 'stages'
    }${above > 0 ? ` (${above} above a cached dataset, skipped)` : ''}, ${tasks} tasks`,
  ];
  for (const stage of plan.stages) lines.push(...describeStage(plan, stage));
  return lines.join('\n');
}
