/**
 * The application lease: a small blob the driver rewrites while its application lives,
 * saying until when it is alive and which of its jobs were cancelled. Executors read it
 * (cached for a few seconds) before running a stage task and drop the tasks of a cancelled
 * job or of an application whose driver is gone, instead of running work nobody will read.
 */
import { z } from 'zod';

/** How long a lease is valid after it is written (ms); the driver renews it every third of that. */
export const APP_LEASE_TTL_MS = 60_000;

export const AppLeaseSchema = z.object({
  appId: z.string(),
  /** Driver clock (ms since epoch) until which the application counts as alive. */
  expiresAt: z.number(),
  /** Jobs cancelled by the driver: their remaining tasks are dropped. */
  cancelledJobs: z.array(z.number().int().nonnegative()).default([]),
});

export type AppLease = z.infer<typeof AppLeaseSchema>;

/** Blob (data container) holding the lease of one application. */
export function appLeaseBlobName(appId: string): string {
  return `apps/${appId}/lease.json`;
}

/**
 * Whether a task of `jobId` should still run under `lease` at `now` (executor clock). Clocks
 * of driver and executor may differ; the TTL is long enough that small skews do not matter.
 */
export function leaseAllows(lease: AppLease | undefined, jobId: number, now: number): boolean {
  return lease !== undefined && lease.expiresAt > now && !lease.cancelledJobs.includes(jobId);
}
