/**
 * The application lease: a small blob the driver rewrites while its application lives,
 * saying until when it is alive, which stages are running and which of their attempts the
 * driver has killed, and which jobs were cancelled. Executors read it (cached for a few
 * seconds per instance) before running a stage task and while it runs, and stop the attempts
 * nobody will read: of a cancelled job, of a stage that has ended, losers of a partition won
 * by another attempt, and every task of an application whose driver is gone.
 */
import { z } from 'zod';

/** How long a lease is valid after it is written (ms); the driver renews it every third of that. */
export const APP_LEASE_TTL_MS = 60_000;

/**
 * Most killed attempts one lease lists (the newest are kept). Losers beyond it are not stopped
 * early and run to their end, as before executors could stop attempts; ~12 bytes each.
 */
export const MAX_LEASE_KILLED_ATTEMPTS = 1000;

/** Most cancelled jobs one lease lists; older ones are covered by their stages having ended. */
export const MAX_LEASE_CANCELLED_JOBS = 64;

const int = z.number().int().nonnegative();

/** A stage running when the lease was written, with the attempts of it the driver has killed. */
export const LeaseStageSchema = z.object({
  jobId: int,
  stageId: int,
  /** `[partition, attempt]` of attempts that lost their partition to another attempt. */
  killed: z.array(z.tuple([int, int])).default([]),
});

export const AppLeaseSchema = z.object({
  appId: z.string(),
  /** Driver clock (ms since epoch) until which the application counts as alive. */
  expiresAt: z.number(),
  /** Jobs cancelled by the driver: their remaining tasks are dropped, their running ones stopped. */
  cancelledJobs: z.array(int).default([]),
  /**
   * Driver clock when the lease was written. With `runningStages`, a task of a stage not listed
   * belongs to a stage that has ended — if its message was sent (`sentAt`) before this.
   */
  writtenAt: z.number().optional(),
  /** Every stage running when the lease was written (absent in leases of older drivers). */
  runningStages: z.array(LeaseStageSchema).optional(),
});

export type AppLease = z.infer<typeof AppLeaseSchema>;
export type AppLeaseInput = z.input<typeof AppLeaseSchema>;
export type LeaseStage = z.infer<typeof LeaseStageSchema>;

/** Blob (data container) holding the lease of one application. */
export function appLeaseBlobName(appId: string): string {
  return `apps/${appId}/lease.json`;
}

/** The task a verdict is about: its ids and when the driver sent its message (driver clock). */
export interface LeasedTask {
  appId: string;
  jobId: number;
  stageId: number;
  partition: number;
  attempt: number;
  sentAt: number;
}

/**
 * Whether a task may run: `run`, or why it must stop. `app-ended` means nobody reads its
 * outcome any more (no lease, or an expired one); the other kinds are the driver's decisions.
 */
export type LeaseVerdict =
  | { run: true }
  | { run: false; kind: 'app-ended' | 'job-cancelled' | 'stage-ended' | 'attempt-killed'; reason: string };

/**
 * The verdict of `lease` on `task` at `now` (executor clock). Clocks of driver and executor may
 * differ; the TTL is long enough that small skews do not matter. The stage-ended rule compares
 * two driver clocks only (the lease's `writtenAt` with the message's `sentAt`): a message is
 * sent only while its stage runs, so a lease written after it that does not list the stage was
 * written after the stage ended.
 */
export function leaseVerdict(lease: AppLease | undefined, task: LeasedTask, now: number): LeaseVerdict {
  if (lease === undefined) {
    return { run: false, kind: 'app-ended', reason: `application ${task.appId} has ended (no lease)` };
  }
  if (lease.expiresAt <= now) {
    return {
      run: false,
      kind: 'app-ended',
      reason: `application ${task.appId}'s lease expired (its driver is gone)`,
    };
  }
  if (lease.cancelledJobs.includes(task.jobId)) {
    return { run: false, kind: 'job-cancelled', reason: `job ${task.jobId} was cancelled` };
  }
  if (lease.runningStages === undefined || lease.writtenAt === undefined) return { run: true };
  const stage = lease.runningStages.find((s) => s.jobId === task.jobId && s.stageId === task.stageId);
  if (stage === undefined) {
    return lease.writtenAt > task.sentAt
      ? { run: false, kind: 'stage-ended', reason: `stage ${task.stageId} has ended` }
      : { run: true };
  }
  if (stage.killed.some(([p, a]) => p === task.partition && a === task.attempt)) {
    return {
      run: false,
      kind: 'attempt-killed',
      reason: `another attempt of partition ${task.partition} succeeded`,
    };
  }
  return { run: true };
}
