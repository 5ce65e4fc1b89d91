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
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { type ActionRef, isSaveOp } from '../engine/actions.js';
import { ConfigError, StratusError } from '../engine/errors.js';
import { buildJobGraph, type JobGraph } from '../engine/graph.js';
import type { JobActions, JobDefinition, JobResults } from '../engine/job.js';
import { validateJobParams } from '../engine/job-params.js';
import { loadJobBundle } from '../engine/module-loader.js';
import {
  appPrefix,
  bundleBlobName,
  CODE_CONTAINER,
  DATA_CONTAINER,
  eventsQueueName,
  LOGS_CONTAINER,
} from '../engine/names.js';
import { signingKeyFromEnv } from '../engine/signing.js';
import type { InputSplit } from '../engine/stage-descriptor.js';
import { BlobStore } from '../storage/blob-store.js';
import type { StorageConnection } from '../storage/connection.js';
import { StorageQueue } from '../storage/queues.js';
import {
  redactError,
  redactSecrets,
  registerConnectionString,
  registerSecret,
  warnRedacted,
} from '../storage/redaction.js';
import { AppLeaseKeeper } from './app-lease-keeper.js';
import { CONNECT_SWEEP_LIMITS, formatAge, sweepDeadApplications } from './app-sweeper.js';
import { bundleJobModule, type JobBundle, resolveModulePath } from './bundler.js';
import { DAGScheduler, type SchedulerEnv } from './dag-scheduler.js';
import { defaultEventLogDir, EventLogWriter } from './event-log.js';
import { EventReceiver } from './event-receiver.js';
import { connectFabric, envInt } from './fabric-connection.js';
import { resolveSourceInput } from './input-sources.js';
import { checkJobParams } from './job-params.js';
import type { LocalFabric } from './local-fabric.js';
import { checkOutputTarget, commitSavedOutput } from './output-committer.js';
import { PoisonWatch } from './poison-watch.js';
import { type RunEvent, RunEventBus, type RunListener } from './run-events.js';
import { type JobOutcome, newRunState } from './run-state.js';
import { uploadBroadcasts } from './stage-io.js';
import { DEFAULT_TASK_SET_OPTIONS, type SpeculationOptions } from './task-set.js';

/** How `Driver.connect` reaches executors. Environment variables fill what is not given. */
export interface DriverOptions {
  /**
   * Start an embedded local fabric (Azurite + executor hosts), stopped by `close()`. The
   * default when no connection string is configured. `STRATUS_EXECUTORS`/`STRATUS_SLOTS`.
   */
  local?: boolean | { executors?: number; slots?: number; hostEnv?: Record<string, string> };
  /** Join a running fabric (`stratus local` prints it) or an account; `STRATUS_CONNECTION`. */
  connectionString?: string;
  /**
   * A deployment's storage account, reached with your Microsoft Entra identity
   * (DefaultAzureCredential: `az login`, managed identity…); `STRATUS_ACCOUNT`. See docs/deploy.md.
   */
  account?: string;
  /** Credential for `account`; default DefaultAzureCredential. */
  credential?: TokenCredential;
  /** Task queue executors are triggered by; `STRATUS_TASK_QUEUE`, default `stratus-tasks`. */
  taskQueue?: string;
  /** Default parallelism when joining a fabric (executors × slots); `STRATUS_TOTAL_SLOTS`. */
  totalSlots?: number;
  /** Per-task memory budget before spilling (bytes); `STRATUS_TASK_MEMORY_MB`, default 256 MiB. */
  memoryBudgetBytes?: number;
  /** Failures of one partition that fail the job (Spark's spark.task.maxFailures); default 4. */
  maxFailures?: number;
  /** Silence after which a running task is presumed lost and relaunched (ms); default 20 s. */
  heartbeatTimeoutMs?: number;
  /** Target size of an input partition cut from local files (bytes); default 32 MiB. */
  splitBytes?: number;
  /**
   * Size of the blocks local input partitions are streamed to storage in (bytes); default 8 MiB.
   * The driver holds about three per upload (four at once), whatever the size of a file.
   */
  uploadBlockBytes?: number;
  /** Total result bytes accepted from one job (Spark's spark.driver.maxResultSize); default 1 GiB. */
  maxResultBytes?: number;
  /** Speculative execution of stragglers (Spark's spark.speculation.*); on by default. */
  speculation?: Partial<SpeculationOptions>;
  /** Sign task messages with this HMAC key (`STRATUS_SIGNING_KEY`); executors with the same key refuse unsigned ones. */
  signingKey?: string;
  /**
   * The sweep of crashed applications' leftovers (events queues, `apps/<appId>/` blobs) run in the
   * background at connect, bounded to a few requests (driver/app-sweeper.ts): `false` turns it
   * off; `graceMs` is how long after its lease expired an application is swept (default 1 h,
   * `STRATUS_SWEEP_GRACE_MINUTES`). Not run on an embedded local fabric, whose account is new.
   */
  sweep?: boolean | { graceMs?: number };
  /** How often the poison queue is checked for this application's tasks (ms); default 2000. */
  poisonCheckMs?: number;
  /**
   * The event log: JSON lines in `stratus-logs/<appId>.jsonl` (default on; `stratus ui` reads
   * it), and a local copy — `localFile`, or `<localDir>/<appId>.jsonl`. An embedded local
   * fabric's storage is deleted when it stops, so its runs keep a local copy by default in
   * `STRATUS_EVENT_LOG_DIR`, else `.stratus/event-logs` (under the working directory), where
   * `stratus ui` looks by default; `localDir: false` turns that off. Other modes keep a local
   * copy only when asked (`localFile`, `localDir` or STRATUS_EVENT_LOG_DIR). `false` turns the
   * event log off.
   */
  eventLog?: boolean | { localFile?: string; localDir?: string | false };
  /** Listeners of run events (progress, event log…). */
  listeners?: RunListener[];
  /** Name of the application in logs and the UI. */
  name?: string;
  /** Where the driver's own status lines go (default: stderr). */
  log?: (line: string) => void;
}

/** Options of one run. */
export interface RunOptions {
  /** Replace existing output folders / prefixes of save actions (default: refuse). */
  overwrite?: boolean;
}

/** A run's results and what it did. */
export interface RunReport<R> {
  results: R;
  /** Final values of the job module's accumulators. */
  accumulators: Record<string, unknown>;
  /** The jobs the run triggered, hidden ones included, in order. */
  jobs: number[];
}

/** Where the local copy of an application's event log goes (see DriverOptions.eventLog); creates its folder. */
async function localEventLogFile(
  eventLog: DriverOptions['eventLog'],
  mode: 'local' | 'connect' | 'azure',
  appId: string,
): Promise<string | undefined> {
  if (eventLog === false) return undefined;
  const given = typeof eventLog === 'object' ? eventLog : {};
  if (given.localFile !== undefined) return path.resolve(given.localFile);
  if (given.localDir === false) return undefined;
  const dir =
    given.localDir !== undefined
      ? path.resolve(given.localDir)
      : mode === 'local' || process.env.STRATUS_EVENT_LOG_DIR
        ? defaultEventLogDir()
        : undefined;
  if (dir === undefined) return undefined;
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    if (given.localDir !== undefined) throw error;
    // The default copy is a convenience: a read-only working directory must not stop the run.
    warnRedacted(`stratus: not keeping a local event log in ${dir}: ${(error as Error).message}`);
    return undefined;
  }
  return path.join(dir, `${appId}.jsonl`);
}

function newAppId(): string {
  return `app-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A stratus application; create it with `Driver.connect`. */
export class Driver {
  private readonly bundles = new Map<string, Promise<JobBundle>>();
  private readonly uploaded = new Set<string>();
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Runs in progress, which `close` lets settle before cleaning up. */
  private readonly activeRuns = new Set<Promise<unknown>>();
  private runs = 0;
  private readonly poisonWatch: PoisonWatch;
  /** The connect-time sweep, awaited by close(); never rejects. */
  private sweeping: Promise<void> = Promise.resolve();

  private constructor(
    readonly appId: string,
    readonly mode: 'local' | 'connect' | 'azure',
    /** Default parallelism: the total slots of the fabric. */
    readonly totalSlots: number,
    private readonly storage: StorageConnection,
    private readonly blobs: BlobStore,
    readonly taskQueue: StorageQueue,
    private readonly events: StorageQueue,
    private readonly receiver: EventReceiver,
    private readonly scheduler: DAGScheduler,
    private readonly schedulerEnv: SchedulerEnv,
    private readonly lease: AppLeaseKeeper,
    private readonly bus: RunEventBus,
    private readonly fabric: LocalFabric | undefined,
    private readonly options: DriverOptions,
    /** The local copy of the event log (absolute path), when one is kept. */
    readonly eventLogFile: string | undefined,
  ) {
    this.poisonWatch = new PoisonWatch(
      storage,
      taskQueue.name,
      appId,
      (task) => {
        // The task's own failure events may still be on their way (the host retries failures
        // at once, so it can poison a message before the driver has read them): poll events
        // now and give them a second, so the user's error is the one reported.
        receiver.poke();
        setTimeout(() => scheduler.noticePoisonedTask(task), 1000).unref();
      },
      { sweepWhile: () => scheduler.hasRunningJobs },
    );
  }

  /**
   * Connect to a fabric as the options and environment say; see DriverOptions. Errors it throws,
   * like every error a Driver method throws, have secrets redacted (storage/redaction.ts).
   */
  static async connect(options: DriverOptions = {}): Promise<Driver> {
    // Known from the start, so that nothing printed or thrown from here on can carry them.
    registerSecret(options.signingKey);
    if (options.connectionString !== undefined) registerConnectionString(options.connectionString);
    try {
      return await Driver.open(options);
    } catch (error) {
      throw redactError(error);
    }
  }

  private static async open(options: DriverOptions): Promise<Driver> {
    const { fabric, storage, queueName, totalSlots, mode, instanceMemoryMb } = await connectFabric(options);
    try {
      const blobs = new BlobStore(storage);
      const appId = newAppId();
      const taskQueue = new StorageQueue(storage, queueName);
      const events = new StorageQueue(storage, eventsQueueName(appId));
      await Promise.all([
        blobs.ensureContainers([CODE_CONTAINER, DATA_CONTAINER, LOGS_CONTAINER]),
        taskQueue.ensure(),
        events.ensure(),
      ]);
      const bus = new RunEventBus();
      const localFile = await localEventLogFile(options.eventLog, mode, appId);
      if (options.eventLog !== false) {
        bus.add(new EventLogWriter({ blobs, ...(localFile !== undefined ? { localFile } : {}) }));
      }
      for (const l of options.listeners ?? []) bus.add(l);
      const env: SchedulerEnv = {
        appId,
        blobs,
        taskQueue,
        eventsQueue: events.name,
        listener: bus,
        taskSet: {
          ...DEFAULT_TASK_SET_OPTIONS,
          maxFailures: options.maxFailures ?? DEFAULT_TASK_SET_OPTIONS.maxFailures,
          heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? DEFAULT_TASK_SET_OPTIONS.heartbeatTimeoutMs,
          speculation: { ...DEFAULT_TASK_SET_OPTIONS.speculation, ...options.speculation },
          totalSlots,
          ...((options.signingKey ?? signingKeyFromEnv()) !== undefined
            ? { signingKey: (options.signingKey ?? signingKeyFromEnv())! }
            : {}),
        },
        memoryBudgetBytes:
          options.memoryBudgetBytes ?? (envInt('STRATUS_TASK_MEMORY_MB') ?? 256) * 1024 * 1024,
        inlineResultMaxBytes: 16 * 1024,
        maxResultBytes: options.maxResultBytes ?? 1024 * 1024 * 1024,
      };
      // The lease publishes what the scheduler runs and what executors must stop.
      let scheduler: DAGScheduler | undefined;
      const lease = new AppLeaseKeeper(blobs, appId, () => scheduler?.leaseStages() ?? []);
      env.onLeaseChange = () => lease.changed();
      scheduler = new DAGScheduler(env);
      const receiver = new EventReceiver(events, (event) => scheduler.handleEvent(event), {
        onInvalid: (_text, error) =>
          bus.onEvent({
            type: 'notice',
            at: Date.now(),
            appId,
            level: 'warn',
            message: `dropped an invalid event: ${(error as Error).message}`,
          }),
      });
      const driver = new Driver(
        appId,
        mode,
        totalSlots,
        storage,
        blobs,
        taskQueue,
        events,
        receiver,
        scheduler,
        env,
        lease,
        bus,
        fabric,
        options,
        localFile,
      );
      bus.onEvent({
        type: 'app-start',
        at: Date.now(),
        logVersion: 1,
        appId,
        name: options.name ?? 'stratus',
        mode: driver.mode,
        taskQueue: queueName,
        totalSlots,
        ...(fabric ? { executors: fabric.executors.length, slotsPerExecutor: fabric.slots } : {}),
        defaultParallelism: totalSlots,
        ...(instanceMemoryMb !== undefined ? { instanceMemoryMb } : {}),
      });
      await driver.lease.start();
      receiver.start();
      driver.poisonWatch.start(options.poisonCheckMs ?? 2000);
      if (mode !== 'local' && options.sweep !== false) driver.startSweep();
      if (fabric) {
        fabric.on('executor-replaced', (dead, fresh) =>
          bus.onEvent({
            type: 'notice',
            at: Date.now(),
            appId,
            level: 'warn',
            message: `executor ${dead.executorId} died; started ${fresh.executorId} in its place`,
          }),
        );
      }
      return driver;
    } catch (error) {
      await fabric?.stop();
      throw error;
    }
  }

  /** Sweep crashed applications in the background, once, and say on the bus what was removed. */
  private startSweep(): void {
    const sweep = typeof this.options.sweep === 'object' ? this.options.sweep : {};
    const notice = (level: 'info' | 'warn', message: string) =>
      this.bus.onEvent({ type: 'notice', at: Date.now(), appId: this.appId, level, message });
    this.sweeping = sweepDeadApplications(this.storage, {
      ...(sweep.graceMs !== undefined ? { graceMs: sweep.graceMs } : {}),
      keep: [this.appId],
      maxApplications: CONNECT_SWEEP_LIMITS.applications,
      maxBlobDeletes: CONNECT_SWEEP_LIMITS.blobDeletes,
    }).then(
      (report) => {
        if (report.removed.length === 0) return;
        const apps = report.removed.map(
          (a) => `${a.appId} (${a.reason}; ${a.eventsQueue ? 'events queue, ' : ''}${a.blobs} blobs)`,
        );
        notice(
          'info',
          `swept ${report.removed.length} crashed application(s) dead for over ${formatAge(report.graceMs)}: ${apps.join(', ')}${
            report.more ? '; more remain, run `stratus clean`' : ''
          }`,
        );
      },
      // The sweep is housekeeping: its failure must not fail the application, but is said.
      (error: unknown) => notice('warn', `sweeping crashed applications failed: ${(error as Error).message}`),
    );
  }

  /** The storage connection string of an embedded local fabric (undefined otherwise). */
  get localConnectionString(): string | undefined {
    return this.fabric?.connectionString;
  }

  /** The storage account's name, as its blob service reports it. */
  private get accountName(): string | undefined {
    return this.storage.blobService.accountName || undefined;
  }

  /** A description of the storage account with secrets removed. */
  get storageDescription(): string {
    return this.storage.description;
  }

  /**
   * Outcomes executors reported for attempts the driver had already reported killed (their
   * partition won elsewhere, or their stage ended): dropped from the run events, counted here.
   */
  get lateOutcomesOfKilledAttempts(): number {
    return this.scheduler.lateOutcomesOfKilledAttempts;
  }

  /**
   * Attempts the driver reported killed that their executor then stopped (terminating the task
   * thread, see docs/operations.md); each also leaves an info notice in the event log.
   */
  get killedAttemptsStopped(): number {
    return this.scheduler.killedAttemptsStopped;
  }

  /** Writes of the application lease blob so far (renewals and changes): what stopping attempts costs the driver. */
  get leaseWrites(): number {
    return this.lease.writes;
  }

  /** Follow this application's run events (progress, event log, summary…). */
  addListener(listener: RunListener): void {
    this.bus.add(listener);
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
    const running = this.runJobModule(job, params, options);
    this.activeRuns.add(running);
    try {
      return await running;
    } catch (error) {
      // Task errors quote user messages and stacks, input errors name URLs: never a secret in them.
      throw redactError(error);
    } finally {
      this.activeRuns.delete(running);
    }
  }

  private async runJobModule<P, R extends JobActions>(
    job: JobDefinition<P, R> | string,
    params: P,
    options: RunOptions,
  ): Promise<RunReport<JobResults<R>>> {
    checkJobParams(params);
    const bundle = await this.bundle(job);
    const definition = await loadJobBundle(bundle.codeHash, bundle.code);
    // With a params schema, the builder (here and on executors) gets the schema's output.
    const runParams = await validateJobParams(definition.params, params, path.basename(bundle.entry));
    if (runParams !== params)
      checkJobParams(runParams, `the output of ${path.basename(bundle.entry)}'s params schema`);
    await this.upload(bundle);
    const graph = this.buildGraph(definition, runParams, bundle.entry);
    const runIndex = this.runs++;
    const scope = `${this.appId}/run-${runIndex}`;
    // Broadcast values are the driver's: computed by this build, shipped before any task runs.
    const broadcasts = await uploadBroadcasts(this.blobs, scope, graph);
    const { inputs, sourcePartitions } = await this.prepareInputs(graph, runIndex);
    const state = newRunState(this.schedulerEnv, {
      scope,
      broadcasts,
      runIndex,
      module: path.basename(bundle.entry),
      graph,
      codeHash: bundle.codeHash,
      params: runParams ?? null,
      defaultParallelism: this.totalSlots,
      inputs,
      sourcePartitions,
    });
    const results: Record<string, unknown> = {};
    const jobs: number[] = [];
    const before = this.scheduler.jobsRun;
    for (const name of graph.actionNames) {
      const ref: ActionRef = { name };
      const action = graph.resolveAction(ref);
      const isSave = isSaveOp(action.op);
      if (isSave)
        await checkOutputTarget(this.blobs, String(action.options.path), options.overwrite === true);
      const outcome: JobOutcome = await this.scheduler.runAction(state, ref, name);
      jobs.push(outcome.jobId);
      if (isSave && outcome.savedParts) {
        await commitSavedOutput(this.blobs, String(action.options.path), outcome.savedParts, {
          overwrite: options.overwrite === true,
        });
      }
      results[name] = outcome.result;
    }
    const allJobs = Array.from({ length: this.scheduler.jobsRun - before }, (_, i) => before + i);
    const value = graph.singleAction ? results[graph.actionNames[0]!] : results;
    return { results: value as JobResults<R>, accumulators: graph.accumulatorValues(), jobs: allJobs };
  }

  private async bundle(job: JobDefinition | string): Promise<JobBundle> {
    let entry: string;
    if (typeof job === 'string') entry = resolveModulePath(job);
    else if (job?.kind === 'stratus-job' && job.moduleUrl) entry = resolveModulePath(job.moduleUrl);
    else {
      throw new ConfigError(
        'driver.run needs a job module: its default export (defineJob(...)) or the path to the module file',
      );
    }
    let pending = this.bundles.get(entry);
    if (!pending) {
      pending = bundleJobModule(entry);
      pending.catch(() => this.bundles.delete(entry));
      this.bundles.set(entry, pending);
    }
    return pending;
  }

  private async upload(bundle: JobBundle): Promise<void> {
    if (this.uploaded.has(bundle.codeHash)) return;
    const name = bundleBlobName(bundle.codeHash);
    if (!(await this.blobs.exists(CODE_CONTAINER, name))) {
      await this.blobs.put(CODE_CONTAINER, name, bundle.code);
    }
    this.uploaded.add(bundle.codeHash);
  }

  private buildGraph(definition: JobDefinition, params: unknown, entry: string): JobGraph {
    try {
      return buildJobGraph(definition, params as never, { defaultParallelism: this.totalSlots });
    } catch (error) {
      if (error instanceof StratusError) throw error;
      const e = error as Error;
      throw new StratusError(
        'BUILDER_FAILED',
        `job module ${path.basename(entry)} threw while building its plan (no task was run): ${e?.message ?? String(error)}`,
        e?.stack ? { userStack: e.stack } : {},
        { cause: error },
      );
    }
  }

  /** Cut every file source into partition blobs; returns the splits and partition counts. */
  private async prepareInputs(
    graph: JobGraph,
    runIndex: number,
  ): Promise<{ inputs: Map<number, InputSplit[][]>; sourcePartitions: Map<number, number> }> {
    const inputs = new Map<number, InputSplit[][]>();
    const sourcePartitions = new Map<number, number>();
    for (const source of graph.sources()) {
      const parts = await resolveSourceInput(source, {
        blobs: this.blobs,
        ...(this.accountName !== undefined ? { accountName: this.accountName } : {}),
        ...(this.options.splitBytes !== undefined ? { splitBytes: this.options.splitBytes } : {}),
        // Input blobs are per run: two runs of one driver may read different files under one node id.
        upload: {
          scope: `${this.appId}/run-${runIndex}`,
          nodeId: source.nodeId,
          ...(this.options.uploadBlockBytes !== undefined
            ? { blockBytes: this.options.uploadBlockBytes }
            : {}),
          onProgress: (p) => this.reportUpload(source.uri, p),
        },
      });
      inputs.set(source.nodeId, parts as unknown as InputSplit[][]);
      sourcePartitions.set(source.nodeId, parts.length);
    }
    return { inputs, sourcePartitions };
  }

  /**
   * Cancel the jobs running now (as SparkContext.cancelAllJobs): their runs reject with
   * JOB_CANCELLED, executors drop their queued tasks and stop their running ones. The driver
   * stays usable.
   */
  async cancel(reason = 'cancelled by the driver'): Promise<void> {
    await this.lease.cancelJobs(this.scheduler.cancelRunningJobs(reason)).catch((error: unknown) => {
      throw redactError(error);
    });
  }

  private uploadShown = new Map<string, number>();

  /** Input uploads above 8 MiB report progress every ~10 % (local files are copied into partition blobs). */
  private reportUpload(
    uri: string,
    p: { bytesUploaded: number; totalBytes: number; partitionsUploaded: number; totalPartitions: number },
  ): void {
    if (p.totalBytes < 8 * 1024 * 1024) return;
    const step = Math.floor((10 * p.bytesUploaded) / p.totalBytes);
    if ((this.uploadShown.get(uri) ?? -1) >= step && p.bytesUploaded < p.totalBytes) return;
    this.uploadShown.set(uri, step);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    this.log(
      `input ${uri}: ${p.partitionsUploaded}/${p.totalPartitions} partitions uploaded (${mb(p.bytesUploaded)}/${mb(p.totalBytes)} MiB)`,
    );
  }

  /** One status line of the driver (options.log, else stderr), redacted: an input URL may carry a SAS. */
  private log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(redactSecrets(line));
  }

  /** Emit an event on this application's bus (e.g. notices from the CLI). */
  emit(event: RunEvent): void {
    this.bus.onEvent(event);
  }

  /**
   * End the application: fail running jobs with JOB_CANCELLED, wait for the runs to settle, stop
   * receiving events, delete its events queue and every blob under `apps/<appId>/`, stop an
   * embedded fabric. Idempotent: a second call waits for the first.
   */
  close(status: 'succeeded' | 'failed' | 'cancelled' = 'succeeded'): Promise<void> {
    this.closing ??= this.shutdown(status).catch((error: unknown) => {
      throw redactError(error);
    });
    return this.closing;
  }

  private async shutdown(status: 'succeeded' | 'failed' | 'cancelled'): Promise<void> {
    this.closed = true;
    this.poisonWatch.stop();
    this.scheduler.close(new StratusError('JOB_CANCELLED', `the driver is closing (${status})`));
    // A run rejects at its next step; wait, so none of the driver's own writes lands after the cleanup.
    await Promise.allSettled(this.activeRuns);
    await this.lease.stop();
    await this.receiver.stop();
    await this.sweeping;
    this.bus.onEvent({ type: 'app-end', at: Date.now(), appId: this.appId, status });
    // The lease goes first: executors then drop what is left, and a late attempt that finds no
    // lease after writing deletes its own blobs (stage-task.ts); what was written while the lease
    // existed is in the listing below.
    const cleanup = await Promise.allSettled([
      this.events.destroy(),
      this.lease.remove().then(() => this.blobs.deletePrefix(DATA_CONTAINER, appPrefix(this.appId))),
    ]);
    await this.bus.close();
    await this.fabric?.stop();
    for (const r of cleanup) {
      if (r.status === 'rejected') {
        warnRedacted(`stratus: cleanup of application ${this.appId} failed: ${String(r.reason)}`);
      }
    }
  }
}
