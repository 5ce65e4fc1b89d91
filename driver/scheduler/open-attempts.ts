/**
 * The task attempts of one stage that started and have not ended, as its run events tell them,
 * so that none stays "running" forever in the timeline and the summary. The scheduler reports
 * an open attempt `killed` (with a reason) when another attempt of its partition wins — the
 * loser of a speculative race or of a relaunch — and when its stage or job ends first (failed,
 * cancelled, the application closing), as Spark's TaskSetManager kills them. The executor may
 * still finish such an attempt; the driver has stopped listening, so its late outcome is
 * dropped from the run events (the scheduler counts it): each attempt ends once.
 */
import type { RunEvent } from '../observe/run-events.js';

type TaskStart = Extract<RunEvent, { type: 'task-start' }>;
type TaskEnd = Extract<RunEvent, { type: 'task-end' }>;

const attemptKey = (partition: number, attempt: number) => `${partition}/${attempt}`;

/** Open and killed attempts of one stage. */
export class OpenAttempts {
  private readonly open = new Map<string, TaskStart>();
  private readonly killed = new Set<string>();

  /**
   * Follow one run event of this stage. Returns false when the event must not be emitted: the
   * outcome of an attempt that was already reported killed.
   */
  observe(event: RunEvent): boolean {
    if (event.type === 'task-start') {
      this.open.set(attemptKey(event.partition, event.attempt), event);
      return true;
    }
    if (event.type !== 'task-end') return true;
    const k = attemptKey(event.partition, event.attempt);
    if (this.killed.has(k)) return false;
    this.open.delete(k);
    return true;
  }

  /** True when attempt `attempt` of `partition` was already reported killed. */
  wasKilled(partition: number, attempt: number): boolean {
    return this.killed.has(attemptKey(partition, attempt));
  }

  /** True when the winner `end` or another open attempt of its partition is a speculative copy. */
  racesSpeculation(end: TaskEnd): boolean {
    if (end.speculative) return true;
    for (const start of this.open.values()) {
      if (start.partition === end.partition && start.speculative) return true;
    }
    return false;
  }

  /** Attempts started and not ended. */
  get size(): number {
    return this.open.size;
  }

  /**
   * End the open attempts — of `partition` only, or all — as `killed` for `reason` at `now`
   * (driver clock, ms); returns their task-end events for the caller to emit.
   */
  kill(reason: string, now: number, partition?: number): TaskEnd[] {
    const ended: TaskEnd[] = [];
    for (const [k, start] of this.open) {
      if (partition !== undefined && start.partition !== partition) continue;
      this.open.delete(k);
      this.killed.add(k);
      ended.push({
        type: 'task-end',
        at: Math.max(now, start.at),
        appId: start.appId,
        jobId: start.jobId,
        stageId: start.stageId,
        partition: start.partition,
        attempt: start.attempt,
        ...(start.messageAttempt !== undefined ? { messageAttempt: start.messageAttempt } : {}),
        ...(start.delivery !== undefined ? { delivery: start.delivery } : {}),
        executorId: start.executorId,
        slot: start.slot,
        launchedAt: start.launchedAt,
        startedAt: start.at,
        status: 'killed',
        speculative: start.speculative ?? false,
        reason,
      });
    }
    return ended;
  }
}
