/**
 * The run summary printed after each run, and the model behind `stratus ui`: jobs (hidden
 * ones marked), their stages run and skipped, tasks and partitions, executors and slots
 * seen, failed / ignored / lost / speculative attempts, skew per stage, wall time and an
 * estimated Azure Flex Consumption cost (cost-model.ts). Built from run events only, so a
 * live run and an event log read offline give the same figures; run-summary-model.ts holds
 * its shapes and run-summary-text.ts prints it.
 */
import { type CostRates, estimateFlexCost, resolveCostRates } from './cost-model.js';
import type { RunEvent, RunListener } from './run-events.js';
import {
  type ExecutorSummary,
  emptyStage,
  type JobSummary,
  quantiles,
  type RunAccumulators,
  type RunSummary,
  type StageSummary,
  type TaskAttemptRecord,
} from './run-summary-model.js';
import { formatRunSummary } from './run-summary-text.js';

export {
  type CostEstimate,
  type CostRates,
  DEFAULT_COST_RATES,
  estimateFlexCost,
  resolveCostRates,
} from './cost-model.js';
export {
  type ExecutorSummary,
  type JobSummary,
  type Quantiles,
  quantiles,
  type RunAccumulators,
  type RunSummary,
  type StageSummary,
  type TaskAttemptRecord,
} from './run-summary-model.js';
export { formatBytes, formatRunSummary } from './run-summary-text.js';

type TaskStart = Extract<RunEvent, { type: 'task-start' }>;
type TaskEnd = Extract<RunEvent, { type: 'task-end' }>;

/** Options of RunSummaryBuilder. */
export interface RunSummaryOptions {
  /** Cost rates; unset ones come from the environment, then the documented defaults. */
  cost?: Partial<CostRates>;
}

const attemptKey = (stageId: number, partition: number, attempt: number, executorId: string) =>
  `${stageId}/${partition}/${attempt}/${executorId}`;

/** Total length of the union of [start, end) intervals (ms). */
function unionLength(intervals: [number, number][]): number {
  const sorted = intervals.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let curStart = Number.NEGATIVE_INFINITY;
  let curEnd = Number.NEGATIVE_INFINITY;
  for (const [s, e] of sorted) {
    if (s > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = s;
      curEnd = e;
    } else if (e > curEnd) curEnd = e;
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

/** The record of an attempt first seen in `event`, still running; `startedAt` when it was seen starting. */
function newAttemptRecord(event: TaskStart | TaskEnd, startedAt?: number): TaskAttemptRecord {
  return {
    jobId: event.jobId,
    stageId: event.stageId,
    partition: event.partition,
    attempt: event.attempt,
    ...(event.messageAttempt !== undefined ? { messageAttempt: event.messageAttempt } : {}),
    ...(event.delivery !== undefined ? { delivery: event.delivery } : {}),
    executorId: event.executorId,
    slot: event.slot,
    launchedAt: event.launchedAt,
    ...(startedAt !== undefined ? { startedAt } : {}),
    status: 'running',
    speculative: event.speculative ?? false,
  };
}

/** Per run, the accumulators its last reporting job gave (the values are cumulative within a run). */
function runAccumulators(jobs: readonly JobSummary[]): RunAccumulators[] {
  const byRun = new Map<string, RunAccumulators>();
  for (const job of jobs) {
    if (!job.accumulators) continue;
    const key = job.run !== undefined ? `run ${job.run}` : `job ${job.jobId}`;
    byRun.set(key, {
      ...(job.run !== undefined ? { run: job.run } : {}),
      ...(job.module !== undefined ? { module: job.module } : {}),
      values: job.accumulators,
    });
  }
  return [...byRun.values()];
}

/** Follows run events and builds the RunSummary; feed it live or from an event log. */
export class RunSummaryBuilder implements RunListener {
  private app: Extract<RunEvent, { type: 'app-start' }> | undefined;
  private appEnd: Extract<RunEvent, { type: 'app-end' }> | undefined;
  private appId = '';
  private firstAt: number | undefined;
  private lastAt: number | undefined;
  private readonly jobs = new Map<number, JobSummary>();
  private readonly stages = new Map<number, StageSummary>();
  private readonly attemptsByKey = new Map<string, TaskAttemptRecord>();
  private readonly notices: RunSummary['notices'] = [];
  private readonly rates: CostRates;
  /** Instance memory given in the options: it beats what the application's app-start says. */
  private readonly memoryOption: number | undefined;
  /**
   * Events of another application, ignored: a builder follows one application (the first it
   * sees), so a log file that several runs appended to never merges them.
   */
  foreignEvents = 0;

  constructor(options: RunSummaryOptions = {}) {
    this.rates = resolveCostRates(options.cost);
    this.memoryOption = options.cost?.instanceMemoryMb;
  }

  onEvent(event: RunEvent): void {
    if (this.appId !== '' && event.appId !== this.appId) {
      this.foreignEvents++;
      return;
    }
    this.appId ||= event.appId;
    this.firstAt = Math.min(this.firstAt ?? event.at, event.at);
    this.lastAt = Math.max(this.lastAt ?? event.at, event.at);
    switch (event.type) {
      case 'app-start':
        this.app = event;
        return;
      case 'app-end':
        this.appEnd = event;
        return;
      case 'job-start': {
        const skipped = new Set(event.skippedStageIds);
        this.jobs.set(event.jobId, {
          jobId: event.jobId,
          action: event.action,
          ...(event.callSite !== undefined ? { callSite: event.callSite } : {}),
          actionName: event.actionName,
          hidden: event.hidden,
          ...(event.reason !== undefined ? { reason: event.reason } : {}),
          status: 'running',
          startedAt: event.at,
          stageIds: [...event.stageIds],
          skippedStageIds: [...event.skippedStageIds],
          stagesRun: 0,
          tasks: 0,
          ...(event.plan !== undefined ? { plan: event.plan } : {}),
          ...(event.run !== undefined ? { run: event.run } : {}),
          ...(event.module !== undefined ? { module: event.module } : {}),
        });
        const infos = new Map((event.stages ?? []).map((s) => [s.stageId, s]));
        for (const stageId of event.stageIds) {
          const stage = this.stages.get(stageId) ?? emptyStage(stageId, event.jobId);
          const info = infos.get(stageId);
          if (info) {
            stage.kind = info.kind;
            stage.name = info.name;
            stage.partitions = info.numPartitions;
            stage.parentStageIds = [...info.parentStageIds];
            if (info.shuffleId !== undefined) stage.shuffleId = info.shuffleId;
          }
          if (skipped.has(stageId)) {
            stage.skipped = true;
            stage.status = 'skipped';
            if (info?.skipReason !== undefined) stage.skipReason = info.skipReason;
          }
          this.stages.set(stageId, stage);
        }
        return;
      }
      case 'job-end': {
        const job = this.jobs.get(event.jobId);
        if (!job) return;
        job.status = event.status;
        job.endedAt = event.at;
        job.durationMs = event.at - job.startedAt;
        if (event.error) {
          job.error = `${event.error.name}: ${event.error.message}`;
          if (event.error.stack !== undefined) job.errorStack = event.error.stack;
        }
        if (event.accumulators) job.accumulators = { ...event.accumulators };
        return;
      }
      case 'stage-submitted': {
        const stage = this.stages.get(event.stageId) ?? emptyStage(event.stageId, event.jobId);
        Object.assign(stage, {
          kind: event.kind,
          name: event.name,
          numTasks: event.numTasks,
          partitions: event.numTasks,
          parentStageIds: [...event.parentStageIds],
          status: 'running',
          skipped: false,
          submittedAt: event.at,
        });
        if (event.shuffleId !== undefined) stage.shuffleId = event.shuffleId;
        this.stages.set(event.stageId, stage);
        // A stage resubmitted after a fetch failure runs under a new id its job-start did not list.
        const job = this.jobs.get(event.jobId);
        if (job && !job.stageIds.includes(event.stageId)) job.stageIds.push(event.stageId);
        return;
      }
      case 'stage-completed': {
        const stage = this.stages.get(event.stageId);
        if (!stage) return;
        stage.status = event.status;
        stage.completedAt = event.at;
        if (event.error) {
          stage.error = `${event.error.name}: ${event.error.message}`;
          if (event.error.stack !== undefined) stage.errorStack = event.error.stack;
        }
        if (stage.submittedAt !== undefined) stage.durationMs = event.at - stage.submittedAt;
        return;
      }
      case 'task-start': {
        const k = attemptKey(event.stageId, event.partition, event.attempt, event.executorId);
        const existing = this.attemptsByKey.get(k);
        if (existing) {
          existing.startedAt ??= event.at;
          return;
        }
        this.attemptsByKey.set(k, newAttemptRecord(event, event.at));
        return;
      }
      case 'task-end': {
        const k = attemptKey(event.stageId, event.partition, event.attempt, event.executorId);
        const record = this.attemptsByKey.get(k) ?? newAttemptRecord(event);
        record.status = event.status;
        record.endedAt = event.at;
        if (event.startedAt !== undefined) record.startedAt ??= event.startedAt;
        if (event.speculative) record.speculative = true;
        if (event.metrics) {
          record.metrics = { ...event.metrics, spillBytes: event.metrics.spillBytes ?? 0 };
          record.durationMs = event.metrics.durationMs;
        } else if (record.startedAt !== undefined) {
          record.durationMs = event.at - record.startedAt;
        }
        if (event.error) {
          const { name, message, stack } = event.error;
          record.error = { name, message, ...(stack !== undefined ? { stack } : {}) };
        }
        if (event.reason !== undefined) record.reason = event.reason;
        this.attemptsByKey.set(k, record);
        return;
      }
      case 'notice':
        this.notices.push({ at: event.at, level: event.level, message: event.message });
        return;
    }
  }

  /** Every task attempt seen, in the order they were first reported. */
  attempts(): TaskAttemptRecord[] {
    return [...this.attemptsByKey.values()];
  }

  /** The attempts of one stage. */
  stageAttempts(stageId: number): TaskAttemptRecord[] {
    return this.attempts().filter((a) => a.stageId === stageId);
  }

  /** The summary as of the events seen so far. */
  summary(): RunSummary {
    const attempts = this.attempts();
    const stages = [...this.stages.values()].sort((a, b) => a.stageId - b.stageId);
    const stageById = new Map(stages.map((s) => [s.stageId, { ...s }]));
    const winners = new Map<number, number[]>();
    for (const a of attempts) {
      const s = stageById.get(a.stageId);
      if (!s) continue;
      s.attempts++;
      if (a.speculative) s.speculative++;
      if (a.status !== 'running') s[a.status]++;
      if (a.status === 'succeeded') {
        if (a.durationMs !== undefined)
          winners.set(a.stageId, [...(winners.get(a.stageId) ?? []), a.durationMs]);
      }
      // Records and bytes of winning attempts only, as Spark's stage totals.
      if (a.metrics && a.status === 'succeeded') {
        s.recordsRead += a.metrics.recordsRead;
        s.recordsWritten += a.metrics.recordsWritten;
        s.bytesRead += a.metrics.bytesRead;
        s.bytesWritten += a.metrics.bytesWritten;
        s.shuffleReadBytes += a.metrics.shuffleReadBytes;
        s.shuffleWriteBytes += a.metrics.shuffleWriteBytes;
        s.peakMemoryBytes = Math.max(s.peakMemoryBytes, a.metrics.peakMemoryBytes);
        s.spillCount += a.metrics.spillCount;
        s.cachedFromMemory += a.metrics.cachedFromMemory ?? 0;
        s.cachedFromDisk += a.metrics.cachedFromDisk ?? 0;
        s.cachedFromBlob += a.metrics.cachedFromBlob ?? 0;
        s.cachedComputed += a.metrics.cachedComputed ?? 0;
        s.spillBytes += a.metrics.spillBytes;
      }
    }
    for (const s of stageById.values()) {
      const q = quantiles(winners.get(s.stageId) ?? []);
      if (q) {
        s.taskTime = q;
        s.skew = q.median > 0 ? q.max / q.median : 1;
      }
    }
    const stageList = [...stageById.values()];
    const jobs = [...this.jobs.values()]
      .sort((a, b) => a.jobId - b.jobId)
      .map((j) => {
        const run = j.stageIds.filter((id) => !j.skippedStageIds.includes(id));
        return {
          ...j,
          stagesRun: run.length,
          tasks: run.reduce((n, id) => n + (stageById.get(id)?.numTasks ?? 0), 0),
        };
      });
    const executors = this.executorSummaries(attempts);
    const slotsSeen = executors.reduce((n, e) => n + e.slots.length, 0);
    const sum = (f: (s: StageSummary) => number) => stageList.reduce((n, s) => n + f(s), 0);
    const runStages = stageList.filter((s) => !s.skipped);
    const startedAt = this.app?.at ?? this.firstAt;
    const endedAt = this.appEnd?.at;
    const activeSeconds = executors.reduce((n, e) => n + e.activeMs, 0) / 1000;
    return {
      appId: this.appId,
      name: this.app?.name ?? this.appId,
      ...(this.app ? { mode: this.app.mode } : {}),
      status: this.appEnd?.status ?? 'running',
      ...(this.appEnd?.error
        ? {
            error: `${this.appEnd.error.name}: ${this.appEnd.error.message}`,
            ...(this.appEnd.error.stack !== undefined ? { errorStack: this.appEnd.error.stack } : {}),
          }
        : {}),
      ...(startedAt !== undefined ? { startedAt } : {}),
      ...(endedAt !== undefined ? { endedAt } : {}),
      wallTimeMs: startedAt === undefined ? 0 : (endedAt ?? this.lastAt ?? startedAt) - startedAt,
      ...(this.app
        ? {
            plannedSlots: this.app.totalSlots,
            defaultParallelism: this.app.defaultParallelism,
            ...(this.app.executors !== undefined ? { plannedExecutors: this.app.executors } : {}),
            ...(this.app.slotsPerExecutor !== undefined
              ? { slotsPerExecutor: this.app.slotsPerExecutor }
              : {}),
          }
        : {}),
      jobs,
      stages: stageList,
      executors,
      totals: {
        jobs: jobs.length,
        hiddenJobs: jobs.filter((j) => j.hidden).length,
        stagesRun: runStages.length,
        stagesSkipped: stageList.length - runStages.length,
        tasks: sum((s) => (s.skipped ? 0 : s.numTasks)),
        attempts: attempts.length,
        succeeded: sum((s) => s.succeeded),
        failed: sum((s) => s.failed),
        ignored: sum((s) => s.ignored),
        lost: sum((s) => s.lost),
        killed: sum((s) => s.killed),
        speculative: sum((s) => s.speculative),
        executorsSeen: executors.length,
        slotsSeen,
        recordsRead: sum((s) => s.recordsRead),
        recordsWritten: sum((s) => s.recordsWritten),
        shuffleReadBytes: sum((s) => s.shuffleReadBytes),
        shuffleWriteBytes: sum((s) => s.shuffleWriteBytes),
        cachedFromMemory: sum((s) => s.cachedFromMemory),
        cachedFromDisk: sum((s) => s.cachedFromDisk),
        cachedFromBlob: sum((s) => s.cachedFromBlob),
        cachedComputed: sum((s) => s.cachedComputed),
        spillCount: sum((s) => s.spillCount),
        spillBytes: sum((s) => s.spillBytes),
      },
      accumulators: runAccumulators(jobs),
      notices: [...this.notices],
      // The deployment's instance memory, as the driver logged it, prices the run wherever the
      // summary is built (stratus ui has no deployment environment); options still win.
      cost: estimateFlexCost(activeSeconds, attempts.length, {
        ...this.rates,
        instanceMemoryMb: this.memoryOption ?? this.app?.instanceMemoryMb ?? this.rates.instanceMemoryMb,
      }),
    };
  }

  private executorSummaries(attempts: TaskAttemptRecord[]): ExecutorSummary[] {
    const byExecutor = new Map<string, TaskAttemptRecord[]>();
    for (const a of attempts) byExecutor.set(a.executorId, [...(byExecutor.get(a.executorId) ?? []), a]);
    const now = this.lastAt ?? 0;
    return [...byExecutor.entries()]
      .map(([executorId, list]) => {
        // A lost attempt's slot is unknown (the driver reports 0): only started attempts name a slot.
        const slots = [...new Set(list.filter((a) => a.startedAt !== undefined).map((a) => a.slot))].sort(
          (a, b) => a - b,
        );
        const times = list.flatMap((a) => [
          a.startedAt ?? a.launchedAt,
          a.endedAt ?? a.startedAt ?? a.launchedAt,
        ]);
        const intervals = list
          .filter((a) => a.startedAt !== undefined)
          .map((a): [number, number] => [a.startedAt!, a.endedAt ?? now]);
        return {
          executorId,
          slots,
          attempts: list.length,
          succeeded: list.filter((a) => a.status === 'succeeded').length,
          failed: list.filter((a) => a.status === 'failed').length,
          firstSeenAt: Math.min(...times),
          lastSeenAt: Math.max(...times),
          activeMs: unionLength(intervals),
        };
      })
      .sort((a, b) => a.executorId.localeCompare(b.executorId, 'en', { numeric: true }));
  }

  /** The summary as text for the console. */
  text(): string {
    return formatRunSummary(this.summary());
  }
}
