/**
 * Console progress on stderr, as Spark's ConsoleProgressBar: on a terminal, one line with a
 * bar per running stage, `[Stage 3:=====>   (12 + 4) / 64]` — (completed + running) / tasks
 * — redrawn by cli-progress (throttling, cursor and line handling); elsewhere (CI, files,
 * pipes) plain lines when jobs and stages start and finish, with counts and times.
 */
import cliProgress from 'cli-progress';
import { actionLabel } from '../../engine/plan/call-site.js';
import type { RunEvent, RunListener } from './run-events.js';
import { type CacheSourceCounts, noCacheSources } from './run-summary-model.js';
import { formatBytes, formatCacheSources } from './run-summary-text.js';

/**
 * One stage's bar exactly as Spark draws it: `[Stage N:` + `=`×done + `>` + spaces +
 * `(done + running) / total]`, `width` characters in all (the bar is dropped when too narrow).
 */
export function formatStageBar(
  stageId: number,
  completed: number,
  running: number,
  total: number,
  width: number,
): string {
  const header = `[Stage ${stageId}:`;
  const tailer = `(${completed} + ${running}) / ${total}]`;
  const w = width - header.length - tailer.length;
  let bar = '';
  if (w > 0) {
    const percent = total > 0 ? Math.floor((w * completed) / total) : 0;
    for (let i = 0; i < w; i++) bar += i < percent ? '=' : i === percent ? '>' : ' ';
  }
  return header + bar + tailer;
}

interface StageProgress {
  jobId: number;
  numTasks: number;
  submittedAt: number;
  done: Set<number>;
  running: Set<string>;
  attempts: number;
  failed: number;
  speculative: number;
  /** Where the winning attempts got persisted partitions (task metrics). */
  cache: CacheSourceCounts;
  /** Spills of the winning attempts (RDD runs, DuckDB temp files) and their bytes. */
  spillCount: number;
  spillBytes: number;
}

/** Options of ConsoleProgress. */
export interface ConsoleProgressOptions {
  /** Where to write (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Draw the bar (default: the stream is a TTY); false gives plain lines. */
  tty?: boolean;
  /** Terminal width for the bar (default: the stream's columns, else 80). */
  width?: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** Shows a run's progress on the console; see the file comment. */
export class ConsoleProgress implements RunListener {
  private readonly stream: NonNullable<ConsoleProgressOptions['stream']>;
  private readonly tty: boolean;
  private readonly stages = new Map<number, StageProgress>();
  private readonly jobStarts = new Map<number, number>();
  private multibar: cliProgress.MultiBar | undefined;
  private bar: cliProgress.SingleBar | undefined;

  constructor(private readonly options: ConsoleProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? this.stream.isTTY === true;
  }

  private line(text: string): void {
    if (this.multibar) this.multibar.log(`${text}\n`);
    else this.stream.write(`${text}\n`);
  }

  /** Spark's line: all running stages side by side, sharing the terminal width. */
  private render(): string {
    const active = [...this.stages.entries()];
    if (active.length === 0) return '';
    const width = this.options.width ?? this.stream.columns ?? 80;
    const each = Math.floor((width - 1) / active.length);
    return active
      .map(([id, s]) => formatStageBar(id, s.done.size, s.running.size, s.numTasks, each))
      .join('');
  }

  private redraw(): void {
    if (!this.tty) return;
    if (this.stages.size === 0) {
      this.multibar?.stop();
      this.multibar = undefined;
      this.bar = undefined;
      return;
    }
    if (!this.multibar) {
      this.multibar = new cliProgress.MultiBar({
        stream: this.stream,
        format: () => this.render(),
        hideCursor: true,
        clearOnComplete: true,
        linewrap: false,
        fps: 5, // Spark redraws every 200 ms
        gracefulExit: true,
      });
      this.bar = this.multibar.create(1, 0);
    }
    this.bar?.update(0);
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'job-start': {
        this.jobStarts.set(event.jobId, event.at);
        if (this.tty) return;
        const hidden = event.hidden ? ` [hidden${event.reason ? `: ${event.reason}` : ''}]` : '';
        const skipped = event.skippedStageIds.length > 0 ? `, ${event.skippedStageIds.length} skipped` : '';
        this.line(
          `job ${event.jobId} started: ${actionLabel(event)} "${event.actionName}"${hidden} — ${event.stageIds.length} stage${event.stageIds.length === 1 ? '' : 's'}${skipped}`,
        );
        return;
      }
      case 'job-end': {
        const start = this.jobStarts.get(event.jobId);
        if (this.tty && event.status === 'succeeded') return;
        this.line(
          `job ${event.jobId} ${event.status}${start !== undefined ? ` in ${seconds(event.at - start)}` : ''}${event.error ? `: ${event.error.message}` : ''}`,
        );
        return;
      }
      case 'stage-submitted':
        this.stages.set(event.stageId, {
          jobId: event.jobId,
          numTasks: event.numTasks,
          submittedAt: event.at,
          done: new Set(),
          running: new Set(),
          attempts: 0,
          failed: 0,
          speculative: 0,
          cache: noCacheSources(),
          spillCount: 0,
          spillBytes: 0,
        });
        if (!this.tty) {
          this.line(
            `stage ${event.stageId} submitted (job ${event.jobId}, ${event.kind}): ${event.numTasks} task${event.numTasks === 1 ? '' : 's'} — ${event.name}`,
          );
        }
        this.redraw();
        return;
      case 'stage-completed': {
        const s = this.stages.get(event.stageId);
        this.stages.delete(event.stageId);
        if (!this.tty || event.status !== 'succeeded') {
          const counts = s
            ? `: ${s.done.size}/${s.numTasks} tasks, ${s.attempts} attempt${s.attempts === 1 ? '' : 's'} (${s.failed} failed, ${s.speculative} speculative)`
            : '';
          const time = s ? ` in ${seconds(event.at - s.submittedAt)}` : '';
          const cached = s ? formatCacheSources(s.cache) : '';
          const spilled =
            s && s.spillCount > 0
              ? `; spilled ${formatBytes(s.spillBytes)} in ${s.spillCount} spill${s.spillCount === 1 ? '' : 's'}`
              : '';
          this.line(
            `stage ${event.stageId} ${event.status}${time}${counts}${cached ? `; cached partitions: ${cached}` : ''}${spilled}${event.error ? ` — ${event.error.message}` : ''}`,
          );
        }
        this.redraw();
        return;
      }
      case 'task-start': {
        const s = this.stages.get(event.stageId);
        if (!s) return;
        s.running.add(`${event.partition}/${event.attempt}/${event.executorId}`);
        this.redraw();
        return;
      }
      case 'task-end': {
        const s = this.stages.get(event.stageId);
        if (!s) return;
        s.running.delete(`${event.partition}/${event.attempt}/${event.executorId}`);
        s.attempts++;
        if (event.status === 'succeeded') {
          s.done.add(event.partition);
          s.cache.cachedFromMemory += event.metrics?.cachedFromMemory ?? 0;
          s.cache.cachedFromDisk += event.metrics?.cachedFromDisk ?? 0;
          s.cache.cachedFromBlob += event.metrics?.cachedFromBlob ?? 0;
          s.cache.cachedComputed += event.metrics?.cachedComputed ?? 0;
          s.spillCount += event.metrics?.spillCount ?? 0;
          s.spillBytes += event.metrics?.spillBytes ?? 0;
        }
        if (event.status === 'failed') s.failed++;
        if (event.speculative) s.speculative++;
        this.redraw();
        return;
      }
      case 'notice':
        if (event.level !== 'info') this.line(`${event.level}: ${event.message}`);
        return;
      case 'app-start':
      case 'app-end':
        return;
    }
  }

  async close(): Promise<void> {
    this.stages.clear();
    this.multibar?.stop();
    this.multibar = undefined;
    this.bar = undefined;
  }
}
