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

function describeStage(plan: JobPlan, stage: StagePlan): string[] {
  const labels = stage.pipeline.map((id) => {
    const label = plan.nodeLabels[id] ?? `node ${id}`;
    return stage.cacheReads.includes(id) ? `${label} [cached]` : label;
  });
  const head = `  Stage ${stage.stageId} (${stage.kind}, ${stage.numPartitions} ${
    stage.numPartitions === 1 ? 'partition' : 'partitions'
  }${stage.partitions ? `, computing ${stage.partitions.length === 1 ? 'partition' : 'partitions'} ${stage.partitions.join(', ')} only` : ''})${
    stage.parents.length > 0 ? ` after stage ${stage.parents.join(', ')}` : ''
  }`;
  const lines = [head, `    ${labels.join(' → ')}`];
  for (const read of stage.shuffleReads) {
    lines.push(`    reads shuffle ${read.shuffleId} (${read.numMapPartitions} map outputs)`);
  }
  if (stage.shuffle) {
    const s = stage.shuffle;
    const how =
      s.partitioner.kind === 'hash'
        ? 'hash'
        : `range, ${s.partitioner.ascending ? 'ascending' : 'descending'}, ${s.partitioner.bounds.length} bounds`;
    lines.push(
      `    writes shuffle ${s.shuffleId} → ${s.numReducePartitions} partitions (${how}${s.mapSideCombine ? ', map-side combine' : ''})`,
    );
  }
  if (stage.cacheWrites.length > 0) {
    lines.push(`    caches ${stage.cacheWrites.map((id) => plan.nodeLabels[id] ?? `node ${id}`).join(', ')}`);
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
  const tasks = plan.stages.reduce((n, s) => n + computedPartitions(s).length, 0);
  const lines = [
    `Job for ${describeAction(plan.action, plan.actionOp)}: ${plan.stages.length} ${
      plan.stages.length === 1 ? 'stage' : 'stages'
    }, ${tasks} tasks`,
  ];
  for (const stage of plan.stages) lines.push(...describeStage(plan, stage));
  return lines.join('\n');
}
