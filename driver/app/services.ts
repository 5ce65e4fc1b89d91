/**
 * What one application runs while its driver is connected: the fabric connection, its
 * containers and queues, the run event bus and event log, the DAG scheduler, the application
 * lease, the event receiver, the poison watch and the sweep of crashed applications. `start`
 * wires and starts them in order at connect; `stop` ends them in order at close and removes
 * what the application left in storage.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../contract/errors.js';
import {
  appPrefix,
  CODE_CONTAINER,
  DATA_CONTAINER,
  eventsQueueName,
  LOGS_CONTAINER,
} from '../../contract/names.js';
import { warnRedacted } from '../../contract/redaction.js';
import { DEFAULT_CODEC_NAME } from '../../engine/records/codec.js';
import { BlobStore } from '../../storage/blob-store.js';
import type { StorageConnection } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { EventReceiver } from '../control/event-receiver.js';
import { AppLeaseKeeper } from '../control/lease-keeper.js';
import { PoisonWatch } from '../control/poison-watch.js';
import { CONNECT_SWEEP_LIMITS, formatAge, sweepDeadApplications } from '../control/sweeper.js';
import { connectFabric, envInt, type FabricStartedAhead } from '../fabric/connection.js';
import type { LocalFabric } from '../fabric/local-fabric.js';
import { resolveSigningKey } from '../fabric/signing-key.js';
import { defaultEventLogDir, EventLogWriter } from '../observe/event-log.js';
import { errorInfoOf, noticeEvent, RunEventBus } from '../observe/run-events.js';
import { DAGScheduler, type SchedulerEnv } from '../scheduler/dag-scheduler.js';
import { systemClock } from '../scheduler/system-clock.js';
import { DEFAULT_TASK_SET_OPTIONS } from '../scheduler/task-set.js';
import type { DriverOptions, ShuffleCompression } from './options.js';

/** How a driver reached its executors. */
export type DriverMode = 'local' | 'connect' | 'azure';

/** Where the local copy of an application's event log goes (see DriverOptions.eventLog); creates its folder. */
async function localEventLogFile(
  eventLog: DriverOptions['eventLog'],
  mode: DriverMode,
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

/** True when a blob endpoint is on this machine (Azurite), where shuffle compression costs more than it saves. */
function isLoopback(blobUrl: string): boolean {
  const host = new URL(blobUrl).hostname;
  return host === 'localhost' || host === '[::1]' || host === '::1' || host.startsWith('127.');
}

/** The record codec of the application's stages, from DriverOptions.shuffleCompression and the account. */
export function shuffleCodecName(choice: ShuffleCompression | undefined, blobUrl: string): string {
  const compression = choice ?? (isLoopback(blobUrl) ? 'none' : 'brotli');
  if (compression !== 'none' && compression !== 'brotli') {
    throw new ConfigError(
      `shuffleCompression must be "brotli" or "none", got ${JSON.stringify(compression)}`,
    );
  }
  return compression === 'brotli' ? `${DEFAULT_CODEC_NAME}+brotli` : DEFAULT_CODEC_NAME;
}

/** The scheduler's environment: task-set options and result limits from the options and environment. */
function schedulerEnv(
  options: DriverOptions,
  parts: Pick<SchedulerEnv, 'appId' | 'blobs' | 'taskQueue' | 'eventsQueue' | 'listener' | 'codec'>,
  totalSlots: number,
  signingKey: string | undefined,
): SchedulerEnv {
  return {
    ...parts,
    // The scheduler's one clock: it stamps run events and paces the lost-task and speculation checks.
    clock: systemClock,
    taskSet: {
      ...DEFAULT_TASK_SET_OPTIONS,
      maxFailures: options.maxFailures ?? DEFAULT_TASK_SET_OPTIONS.maxFailures,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? DEFAULT_TASK_SET_OPTIONS.heartbeatTimeoutMs,
      speculation: { ...DEFAULT_TASK_SET_OPTIONS.speculation, ...options.speculation },
      totalSlots,
      ...(signingKey !== undefined ? { signingKey } : {}),
    },
    memoryBudgetBytes: options.memoryBudgetBytes ?? (envInt('STRATUS_TASK_MEMORY_MB') ?? 256) * 1024 * 1024,
    inlineResultMaxBytes: 16 * 1024,
    maxResultBytes: options.maxResultBytes ?? 1024 * 1024 * 1024,
  };
}

/** One connected application's running parts; created by `AppServices.start`, ended by `stop`. */
export class AppServices {
  /** The storage account's name, as its blob service reports it. */
  readonly accountName: string | undefined;
  private readonly poisonWatch: PoisonWatch;
  /** The connect-time sweep, awaited by stop(); never rejects. */
  private sweeping: Promise<void> = Promise.resolve();

  private constructor(
    readonly appId: string,
    readonly mode: DriverMode,
    /** Default parallelism: the total slots of the fabric. */
    readonly totalSlots: number,
    readonly storage: StorageConnection,
    readonly blobs: BlobStore,
    readonly taskQueue: StorageQueue,
    private readonly events: StorageQueue,
    private readonly receiver: EventReceiver,
    readonly scheduler: DAGScheduler,
    readonly lease: AppLeaseKeeper,
    readonly bus: RunEventBus,
    readonly fabric: LocalFabric | undefined,
    /** The local copy of the event log (absolute path), when one is kept. */
    readonly eventLogFile: string | undefined,
  ) {
    this.accountName = storage.blobService.accountName || undefined;
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
   * Connect to a fabric as the options and environment say, create the application's queues and
   * containers, and start its lease, event receiver, poison watch and sweep. An embedded fabric
   * started here is stopped again when this throws.
   */
  static async start(options: DriverOptions & FabricStartedAhead): Promise<AppServices> {
    const { fabric, storage, queueName, totalSlots, mode, instanceMemoryMb, credential } =
      await (options.fabricStartedAhead ?? connectFabric(options));
    try {
      // Signing on a deployment: the key from the option, STRATUS_SIGNING_KEY, or its Key Vault.
      const { key: signingKey } = await resolveSigningKey({ explicit: options.signingKey, credential });
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
      const env = schedulerEnv(
        options,
        {
          appId,
          blobs,
          taskQueue,
          eventsQueue: events.name,
          listener: bus,
          codec: shuffleCodecName(options.shuffleCompression, storage.blobService.url),
        },
        totalSlots,
        signingKey,
      );
      // The lease publishes what the scheduler runs and what executors must stop.
      let scheduler: DAGScheduler | undefined;
      const lease = new AppLeaseKeeper(blobs, appId, () => scheduler?.leaseStages() ?? []);
      env.onLeaseChange = () => lease.changed();
      scheduler = new DAGScheduler(env);
      const receiver = new EventReceiver(events, (event) => scheduler.handleEvent(event), {
        onInvalid: (_text, error) =>
          bus.onEvent(noticeEvent(appId, 'warn', `dropped an invalid event: ${(error as Error).message}`)),
      });
      const app = new AppServices(
        appId,
        mode,
        totalSlots,
        storage,
        blobs,
        taskQueue,
        events,
        receiver,
        scheduler,
        lease,
        bus,
        fabric,
        localFile,
      );
      bus.onEvent({
        type: 'app-start',
        at: Date.now(),
        logVersion: 1,
        appId,
        name: options.name ?? 'stratus',
        mode,
        taskQueue: queueName,
        totalSlots,
        ...(fabric ? { executors: totalSlots / fabric.slots, slotsPerExecutor: fabric.slots } : {}),
        defaultParallelism: totalSlots,
        ...(instanceMemoryMb !== undefined ? { instanceMemoryMb } : {}),
      });
      await lease.start();
      receiver.start();
      app.poisonWatch.start(options.poisonCheckMs ?? 2000);
      if (mode !== 'local' && options.sweep !== false) app.startSweep(options.sweep);
      if (fabric) {
        // The embedded fabric's hosts may still be starting: if none can, every run fails with why.
        fabric.executorsReady.catch((error: unknown) =>
          app.closeScheduler(error instanceof Error ? error : new Error(String(error))),
        );
        fabric.on('executor-replaced', (dead, fresh) =>
          bus.onEvent(
            noticeEvent(
              appId,
              'warn',
              `executor ${dead.executorId} died; started ${fresh.executorId} in its place`,
            ),
          ),
        );
      }
      return app;
    } catch (error) {
      await fabric?.stop();
      throw error;
    }
  }

  /** Sweep crashed applications in the background, once, and say on the bus what was removed. */
  private startSweep(option: DriverOptions['sweep']): void {
    const sweep = typeof option === 'object' ? option : {};
    const notice = (level: 'info' | 'warn', message: string) =>
      this.bus.onEvent(noticeEvent(this.appId, level, message));
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

  /** Stop watching the poison queue and fail running jobs with `reason`: the first step of closing. */
  closeScheduler(reason: Error): void {
    this.poisonWatch.stop();
    this.scheduler.close(reason);
  }

  /**
   * After `closeScheduler` and once the runs have settled: stop the lease and the receiver, say
   * app-end, delete the events queue and every blob under `apps/<appId>/`, close the bus, stop an
   * embedded fabric. Cleanup failures are warned about, not thrown.
   */
  async stop(status: 'succeeded' | 'failed' | 'cancelled', reason?: unknown): Promise<void> {
    await this.lease.stop();
    await this.receiver.stop();
    await this.sweeping;
    this.bus.onEvent({
      type: 'app-end',
      at: Date.now(),
      appId: this.appId,
      status,
      ...(reason !== undefined ? { error: errorInfoOf(reason, { ownStack: true }) } : {}),
    });
    // The lease goes first: executors then drop what is left, and a late attempt that finds no
    // lease after writing deletes its own blobs (stage-task.ts); what was written while the lease
    // existed is in the listing below. The events queue goes after it too: an attempt whose
    // outcome finds the queue gone drops itself (task-runner.ts) rather than being retried.
    // An embedded fabric that removes its storage when it stops takes all of it along: no request needed.
    const cleanup = this.fabric?.discardsStorage
      ? []
      : [
          ...(await Promise.allSettled([this.lease.remove()])),
          ...(await Promise.allSettled([
            this.events.destroy(),
            this.blobs.deletePrefix(DATA_CONTAINER, appPrefix(this.appId)),
          ])),
        ];
    await this.bus.close();
    await this.fabric?.stop();
    for (const r of cleanup) {
      if (r.status === 'rejected') {
        warnRedacted(`stratus: cleanup of application ${this.appId} failed: ${String(r.reason)}`);
      }
    }
  }
}
