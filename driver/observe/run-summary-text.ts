/**
 * The run summary as the console prints it after `stratus run` (RunSummaryBuilder.text()).
 */
import { actionLabel } from '../../engine/plan/call-site.js';
import { badRecordsAccumulatorName } from '../../engine/records/record-formats.js';
import type { CacheSourceCounts, RunSummary } from './run-summary-model.js';

const ms = (n: number | undefined) =>
  n === undefined ? '–' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;

/** Bytes in binary units (`1.5 MiB`). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Accumulators counting a source's skipped bad records are named `badRecords:<uri>`. */
const BAD_RECORDS_PREFIX = badRecordsAccumulatorName('');

/**
 * Where persisted partitions came from (`4 from executor memory, 2 from blob, 4 computed`), or
 * '' when the counts are all 0 (nothing persisted was read or stored).
 */
export function formatCacheSources(c: CacheSourceCounts): string {
  return [
    c.cachedFromMemory ? `${c.cachedFromMemory} from executor memory` : '',
    c.cachedFromDisk ? `${c.cachedFromDisk} from executor disk` : '',
    c.cachedFromBlob ? `${c.cachedFromBlob} from blob` : '',
    c.cachedComputed ? `${c.cachedComputed} computed and stored` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** The run summary as the console prints it after a run. */
export function formatRunSummary(s: RunSummary): string {
  const t = s.totals;
  const lines: string[] = [];
  lines.push(`Run summary — ${s.name} (${s.appId}): ${s.status} in ${ms(s.wallTimeMs)}`);
  if (s.error) lines.push(`  failed:    ${s.error}`);
  const planned =
    s.plannedSlots === undefined
      ? ''
      : `${plural(s.plannedSlots, 'slot')} planned${
          s.plannedExecutors !== undefined && s.slotsPerExecutor !== undefined
            ? ` (${s.plannedExecutors} executors × ${s.slotsPerExecutor})`
            : ''
        }, `;
  lines.push(
    `  slots:     ${planned}${plural(t.executorsSeen, 'executor')} and ${plural(t.slotsSeen, 'slot')} seen running tasks`,
  );
  lines.push(`  jobs:      ${t.jobs}${t.hiddenJobs > 0 ? ` (${t.hiddenJobs} hidden)` : ''}`);
  for (const job of s.jobs) {
    const tag = job.hidden ? ` [hidden${job.reason ? `: ${job.reason}` : ''}]` : '';
    lines.push(
      `    job ${job.jobId} ${actionLabel(job)} "${job.actionName}"${tag}: ${plural(job.stageIds.length, 'stage')} (${job.stagesRun} run, ${job.skippedStageIds.length} skipped), ${plural(job.tasks, 'task')}, ${job.status} in ${ms(job.durationMs)}${
        job.error ? ` — ${job.error}` : ''
      }`,
    );
    for (const id of job.stageIds) {
      const st = s.stages.find((x) => x.stageId === id);
      if (!st) continue;
      if (st.skipped) {
        const size = st.partitions > 0 ? ` ${st.kind ?? ''}: ${plural(st.partitions, 'partition')},` : ':';
        lines.push(
          `      stage ${id}${size} skipped (${st.skipReason === 'above-cached-dataset' ? 'above a cached dataset' : 'its shuffle output exists'})${st.name ? ` — ${st.name}` : ''}`,
        );
        continue;
      }
      const skew =
        st.taskTime && st.skew !== undefined
          ? `, task time median ${ms(st.taskTime.median)} max ${ms(st.taskTime.max)} (skew ${st.skew.toFixed(1)}×)`
          : '';
      const extra = [
        st.failed ? `${st.failed} failed` : '',
        st.speculative ? `${st.speculative} speculative` : '',
        st.lost ? `${st.lost} lost` : '',
        st.ignored ? `${st.ignored} ignored` : '',
        st.killed ? `${st.killed} killed` : '',
        st.spillCount > 0 ? `spilled ${formatBytes(st.spillBytes)} in ${plural(st.spillCount, 'spill')}` : '',
      ].filter(Boolean);
      lines.push(
        `      stage ${id} ${st.kind ?? ''}: ${plural(st.numTasks, 'partition')}, ${plural(st.attempts, 'attempt')}${
          extra.length ? ` (${extra.join(', ')})` : ''
        }${skew}, ${ms(st.durationMs)} — ${st.name ?? ''}`,
      );
      const cached = formatCacheSources(st);
      if (cached) lines.push(`        cached partitions: ${cached}`);
    }
  }
  lines.push(
    `  stages:    ${t.stagesRun} run, ${t.stagesSkipped} skipped; tasks: ${t.tasks} (one per partition)`,
  );
  lines.push(
    `  attempts:  ${t.attempts}: ${t.succeeded} succeeded, ${t.failed} failed, ${t.ignored} ignored, ${t.lost} lost, ${t.killed} killed; ${t.speculative} speculative`,
  );
  lines.push(
    `  data:      ${t.recordsRead} records read, ${t.recordsWritten} written; shuffle ${formatBytes(t.shuffleWriteBytes)} written, ${formatBytes(t.shuffleReadBytes)} read${
      t.spillCount > 0 ? `; spilled ${formatBytes(t.spillBytes)} in ${plural(t.spillCount, 'spill')}` : ''
    }`,
  );
  const cached = formatCacheSources(t);
  if (cached) lines.push(`  cache:     partitions ${cached}`);
  const severalRuns = s.accumulators.length > 1;
  for (const acc of s.accumulators) {
    const where = severalRuns ? ` (run ${acc.run ?? '?'}${acc.module ? `, ${acc.module}` : ''})` : '';
    const entries = Object.entries(acc.values);
    const bad = entries.filter(([name]) => name.startsWith(BAD_RECORDS_PREFIX));
    const others = entries.filter(([name]) => !name.startsWith(BAD_RECORDS_PREFIX));
    for (const [name, value] of bad) {
      lines.push(
        `  bad records${where}: ${JSON.stringify(value)} skipped in ${name.slice(BAD_RECORDS_PREFIX.length)}`,
      );
    }
    if (others.length > 0) {
      lines.push(
        `  accumulators${where}: ${others.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(', ')}`,
      );
    }
  }
  const c = s.cost;
  lines.push(
    `  cost:      ~$${c.totalUsd.toFixed(6)} on Azure Flex Consumption (${c.gbSeconds.toFixed(2)} GB-s × $${c.rates.usdPerGbSecond}/GB-s at ${c.rates.instanceMemoryMb} MB, ${c.executions} executions × $${c.rates.usdPerMillionExecutions}/million; free grants not deducted)`,
  );
  for (const n of s.notices.filter((x) => x.level !== 'info')) lines.push(`  ${n.level}: ${n.message}`);
  return lines.join('\n');
}
