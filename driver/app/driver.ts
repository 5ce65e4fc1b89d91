/**
 * The Driver: one stratus application. It connects to a fabric — an embedded local one
 * (Azurite + executor host processes it starts and stops), a running `stratus local` or
 * any storage account by connection string, or Azure — and runs job modules on it:
 * bundle and upload the module, build the graph with the params, cut file inputs into
 * partition blobs, run each action as jobs through the DAGScheduler, commit saved output.
 *
 * ```ts
 * const driver = await Driver.connect();          // local unless configured otherwise
 * const counts = await driver.run(wordcount, { input: 'data/*.txt' });
 * await driver.close();
 * ```
 *
 * The parts it is made of: app-services.ts (what runs while it is connected, started at connect
 * and stopped at close), job-run.ts (one `driver.run`), run-inputs.ts (a run's input partitions).
 */

// By package name, not path: the published stratus/driver types then refer to the `stratus`
// entry for the job-module types instead of re-declaring them (api/stratus-driver.api.md).
import type { JobActions, JobDefinition, JobResults } from 'stratus';
import { StratusError } from '../../contract/errors.js';
import {
  redactError,
  redactSecrets,
  registerConnectionString,
  registerSecret,
} from '../../contract/redaction.js';
import { asStorageUnreachable } from '../../storage/unreachable.js';
import { noticeEvent, type RunEvent, type RunListener } from '../observe/run-events.js';
import { JobRunner, type RunOptions, type RunReport } from './job-run.js';
import type { DriverOptions } from './options.js';
import { AppServices, type DriverMode } from './services.js';

export type { RunOptions, RunReport } from './job-run.js';
export type { DriverOptions, ShuffleCompression } from './options.js';
export type { DriverMode } from './services.js';

/** A stratus application; create it with `Driver.connect`. */
export class Driver {
  /** The application's id (`app-…`): names its events queue, its blobs and its event log. */
  readonly appId: string;
  /** How the driver reached its executors. */
  readonly mode: DriverMode;
  /** Default parallelism: the total slots of the fabric. */
  readonly totalSlots: number;
  /** The local copy of the event log (absolute path), when one is kept. */
  readonly eventLogFile: string | undefined;
  private readonly jobs: JobRunner;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** The latest run's failure (redacted), for the `app-end` of an application closed as failed. */
  private lastRunError: unknown;
  /** Runs in progress, which `close` lets settle before cleaning up. */
  private readonly activeRuns = new Set<Promise<unknown>>();

  // Everything the application runs (storage, queues, scheduler, lease) stays behind this private
  // field, so the published types of Driver name none of them.
  private constructor(
    private readonly app: AppServices,
    options: DriverOptions,
  ) {
    this.appId = app.appId;
    this.mode = app.mode;
    this.totalSlots = app.totalSlots;
    this.eventLogFile = app.eventLogFile;
    this.jobs = new JobRunner({
      appId: app.appId,
      blobs: app.blobs,
      scheduler: app.scheduler,
      totalSlots: app.totalSlots,
      ...(app.accountName !== undefined ? { accountName: app.accountName } : {}),
      ...(options.splitBytes !== undefined ? { splitBytes: options.splitBytes } : {}),
      ...(options.uploadBlockBytes !== undefined ? { uploadBlockBytes: options.uploadBlockBytes } : {}),
      // One status line of the driver (options.log, else stderr), redacted: an input URL may carry a SAS.
      log: (line: string) =>
        (options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(redactSecrets(line)),
      notice: (message: string) => app.bus.onEvent(noticeEvent(app.appId, 'info', redactSecrets(message))),
    });
  }

  /**
   * Connect to a fabric as the options and environment say; see DriverOptions. Errors it throws,
   * like every error a Driver method throws, have secrets redacted (contract/redaction.ts).
   */
  static async connect(options: DriverOptions = {}): Promise<Driver> {
    // Known from the start, so that nothing printed or thrown from here on can carry them.
    registerSecret(options.signingKey);
    if (options.connectionString !== undefined) registerConnectionString(options.connectionString);
    try {
      return new Driver(await AppServices.start(options), options);
    } catch (error) {
      // A fabric that is not running is the user's to fix: say where and how, not a socket stack.
      throw redactError(asStorageUnreachable(error) ?? error);
    }
  }

  /** The storage connection string of an embedded local fabric (undefined otherwise). */
  get localConnectionString(): string | undefined {
    return this.app.fabric?.connectionString;
  }

  /** A description of the storage account with secrets removed. */
  get storageDescription(): string {
    return this.app.storage.description;
  }

  /**
   * Outcomes executors reported for attempts the driver had already reported killed (their
   * partition won elsewhere, or their stage ended): dropped from the run events, counted here.
   */
  get lateOutcomesOfKilledAttempts(): number {
    return this.app.scheduler.lateOutcomesOfKilledAttempts;
  }

  /**
   * Attempts the driver reported killed that their executor then stopped (terminating the task
   * thread, see docs/operations.md); each also leaves an info notice in the event log.
   */
  get killedAttemptsStopped(): number {
    return this.app.scheduler.killedAttemptsStopped;
  }

  /** Writes of the application lease blob so far (renewals and changes): what stopping attempts costs the driver. */
  get leaseWrites(): number {
    return this.app.lease.writes;
  }

  /** Follow this application's run events (progress, event log, summary…). */
  addListener(listener: RunListener): void {
    this.app.bus.add(listener);
  }

  /** Run a job module (its default export, or a path to it) with `params`; returns its actions' results. */
  async run<P, R extends JobActions>(
    job: JobDefinition<P, R> | string,
    params: P,
    options: RunOptions = {},
  ): Promise<JobResults<R>> {
    return (await this.runWithReport(job, params, options)).results;
  }

  /** As `run`, also returning accumulator values and the jobs triggered. */
  async runWithReport<P, R extends JobActions>(
    job: JobDefinition<P, R> | string,
    params: P,
    options: RunOptions = {},
  ): Promise<RunReport<JobResults<R>>> {
    if (this.closed) throw new StratusError('DRIVER_CLOSED', 'this driver is closed');
    const running = this.jobs.run(job, params, options);
    this.activeRuns.add(running);
    try {
      return await running;
    } catch (error) {
      // Task errors quote user messages and stacks, input errors name URLs: never a secret in them.
      const redacted = redactError(error);
      this.lastRunError = redacted;
      throw redacted;
    } finally {
      this.activeRuns.delete(running);
    }
  }

  /**
   * Cancel the jobs running now (as SparkContext.cancelAllJobs): their runs reject with
   * JOB_CANCELLED, executors drop their queued tasks and stop their running ones. The driver
   * stays usable.
   */
  async cancel(reason = 'cancelled by the driver'): Promise<void> {
    await this.app.lease.cancelJobs(this.app.scheduler.cancelRunningJobs(reason)).catch((error: unknown) => {
      throw redactError(error);
    });
  }

  /** Emit an event on this application's bus (e.g. notices from the CLI). */
  emit(event: RunEvent): void {
    this.app.bus.onEvent(event);
  }

  /**
   * End the application: fail running jobs with JOB_CANCELLED, wait for the runs to settle, stop
   * receiving events, delete its events queue and every blob under `apps/<appId>/`, stop an
   * embedded fabric. Idempotent: a second call waits for the first. `error` says why a failed or
   * cancelled application ended (its `app-end` carries it); without one, the last failed run's error.
   */
  close(status: 'succeeded' | 'failed' | 'cancelled' = 'succeeded', error?: unknown): Promise<void> {
    const reason = status === 'succeeded' ? undefined : (error ?? this.lastRunError);
    this.closing ??= this.shutdown(status, reason === undefined ? undefined : redactError(reason)).catch(
      (error: unknown) => {
        throw redactError(error);
      },
    );
    return this.closing;
  }

  private async shutdown(status: 'succeeded' | 'failed' | 'cancelled', reason?: unknown): Promise<void> {
    this.closed = true;
    this.app.closeScheduler(new StratusError('JOB_CANCELLED', `the driver is closing (${status})`));
    // A run rejects at its next step; wait, so none of the driver's own writes lands after the cleanup.
    await Promise.allSettled(this.activeRuns);
    await this.app.stop(status, reason);
  }
}
