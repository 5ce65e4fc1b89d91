/**
 * The application lease's verdict on a task: it runs unless its application has ended (no
 * lease, or an expired one), its job was cancelled, it lost its partition to another attempt,
 * or its stage has ended — judged only for messages sent before the lease was written, since
 * a stage is missing from a lease written before the stage was submitted.
 */
import { describe, expect, it } from 'vitest';
import { type AppLease, AppLeaseSchema, leaseVerdict } from '../../contract/app-lease.js';

const now = 1_000_000;
const task = { appId: 'app-1', jobId: 3, stageId: 7, partition: 2, attempt: 0, sentAt: now - 5000 };

function lease(fields: Partial<AppLease> = {}): AppLease {
  return AppLeaseSchema.parse({
    appId: 'app-1',
    expiresAt: now + 60_000,
    writtenAt: now - 1000,
    runningStages: [{ jobId: 3, stageId: 7, killed: [[5, 1]] }],
    ...fields,
  });
}

describe('lease verdicts', () => {
  it('a task of a running stage, not killed, runs', () => {
    expect(leaseVerdict(lease(), task, now)).toEqual({ run: true });
  });

  it('no lease, or an expired one, means the application has ended', () => {
    expect(leaseVerdict(undefined, task, now)).toMatchObject({ run: false, kind: 'app-ended' });
    expect(leaseVerdict(lease({ expiresAt: now }), task, now)).toMatchObject({
      run: false,
      kind: 'app-ended',
      reason: "application app-1's lease expired (its driver is gone)",
    });
  });

  it('a task of a cancelled job stops', () => {
    expect(leaseVerdict(lease({ cancelledJobs: [3] }), task, now)).toEqual({
      run: false,
      kind: 'job-cancelled',
      reason: 'job 3 was cancelled',
    });
  });

  it('an attempt the driver killed stops; another attempt of its partition runs on', () => {
    const killed = lease({ runningStages: [{ jobId: 3, stageId: 7, killed: [[2, 0]] }] });
    expect(leaseVerdict(killed, task, now)).toEqual({
      run: false,
      kind: 'attempt-killed',
      reason: 'another attempt of partition 2 succeeded',
    });
    expect(leaseVerdict(killed, { ...task, attempt: 1 }, now)).toEqual({ run: true });
  });

  it('a stage missing from a lease written after its message was sent has ended', () => {
    const ended = lease({ runningStages: [{ jobId: 3, stageId: 8, killed: [] }] });
    expect(leaseVerdict(ended, task, now)).toEqual({
      run: false,
      kind: 'stage-ended',
      reason: 'stage 7 has ended',
    });
  });

  it('a stage missing from a lease written before (or as) its message was sent is not judged', () => {
    const early = lease({ runningStages: [], writtenAt: task.sentAt });
    expect(leaseVerdict(early, task, now)).toEqual({ run: true });
    expect(leaseVerdict({ ...early, writtenAt: task.sentAt - 1 }, task, now)).toEqual({ run: true });
  });

  it('a lease of an older driver (no running stages) judges only the application and cancelled jobs', () => {
    const old = AppLeaseSchema.parse({ appId: 'app-1', expiresAt: now + 60_000, cancelledJobs: [] });
    expect(leaseVerdict(old, task, now)).toEqual({ run: true });
  });
});
