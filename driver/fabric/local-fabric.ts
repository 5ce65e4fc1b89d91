/**
 * The local fabric: what `stratus local` runs and what tests and local runs use in place of an
 * Azure deployment — one Azurite (the storage account) plus N executor host processes with S
 * slots each (the Functions instances). Like Azure's scale controller bringing a new instance,
 * an executor whose process dies unexpectedly is replaced by a fresh one — during start too: a
 * host that dies before it is ready is started again (bounded), and a fabric whose executors
 * could not all start goes on with those that did; only a fabric left with none fails to start.
 * The parts start in parallel: the executor hosts are spawned as soon as Azurite's process
 * exists, as a Functions host starts whatever the state of its storage, and their listeners wait
 * for storage to answer.
 */
import { EventEmitter } from 'node:events';
import { ConfigError } from '../../contract/errors.js';
import {
  CODE_CONTAINER,
  DATA_CONTAINER,
  DEFAULT_TASK_QUEUE,
  fabricInfoBlobName,
  LOGS_CONTAINER,
  poisonQueueName,
} from '../../contract/names.js';
import { redactError, redactSecrets, registerConnectionString } from '../../contract/redaction.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { type AzuriteHandle, startAzurite } from './azurite.js';
import { type ExecutorHandle, ExecutorStartError, spawnExecutorHost } from './executor-process.js';
import type { ProcessExit } from './watchdog.js';

/**
 * Starts one executor may take, a replacement host each time one dies before it is ready: a
 * crash in the first seconds is survived, a host that can never start does not loop.
 */
export const EXECUTOR_START_TRIES = 3;

function executorNumber(handle: ExecutorHandle): number {
  return Number(handle.executorId.slice('executor-'.length));
}

/** Options for `startLocalFabric`. */
export interface LocalFabricOptions {
  /** Number of executor host processes (≥ 0). */
  executors: number;
  /** Slots per executor (≥ 1). */
  slots: number;
  /** Task queue; default `stratus-tasks`. */
  queue?: string;
  /** Extra environment for every executor host (timing overrides, verbose lines…). */
  hostEnv?: Record<string, string>;
  /** Function app folder the hosts load; default the package's `dist/function-app`. */
  appDir?: string;
  /** Use this storage account (an Azurite of your own…) instead of starting an Azurite; not stopped by the fabric. */
  connectionString?: string;
  /** Replace an executor whose process dies unexpectedly; default true. */
  replaceDeadExecutors?: boolean;
  /** Where status lines go; default stderr. */
  log?: (line: string) => void;
  /** Every executor's raw stdout and stderr as it arrives (tools and tests that watch what executors print). */
  onExecutorOutput?: (executorId: string, stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /**
   * Called as soon as an executor's host process exists, before it is ready (tools that watch
   * processes; tests that kill a host while it starts). It must not throw.
   */
  onExecutorSpawned?: (handle: ExecutorHandle) => void;
  /**
   * Return once storage serves and the hosts are spawned, without waiting for them to be ready
   * (default true: wait). A driver submits at once, as it does to a deployment whose instances
   * are still starting; `executorsReady` says when they are, and rejects when none started.
   */
  waitForExecutors?: boolean;
  /** Give the start up when aborted: every process begun is stopped and the start rejects. */
  signal?: AbortSignal;
}

/** Events: `executor-exited` (handle, exit), `executor-replaced` (dead handle, new handle). */
export interface LocalFabricEvents {
  /** An executor's process exited, for whatever reason. */
  'executor-exited': [ExecutorHandle, ProcessExit];
  /** An executor died unexpectedly and the fabric started the second one in its place. */
  'executor-replaced': [ExecutorHandle, ExecutorHandle];
}

/** A running local fabric; create it with `startLocalFabric`. */
export class LocalFabric extends EventEmitter<LocalFabricEvents> {
  /** The live executors (replacements included, dead and stopped ones removed). */
  readonly executors: ExecutorHandle[] = [];
  private nextIndex = 1;
  private stopping = false;
  private readonly deliberate = new Set<ExecutorHandle>();
  /** Executors that reached ready: only those are replaced, so a host that cannot start does not loop. */
  private readonly started = new Set<ExecutorHandle>();
  /** Hosts being spawned (not yet in `executors`): stop() waits for them so none is left behind. */
  private readonly spawning = new Set<Promise<ExecutorHandle>>();
  private startedExecutors: Promise<void> = Promise.resolve();

  /** @internal Made by `startLocalFabric`. */
  constructor(
    /** Connection string of the fabric's storage account. */
    readonly connectionString: string,
    /** The task queue every executor listens on. */
    readonly queue: string,
    /** Slots per executor. */
    readonly slots: number,
    private readonly options: LocalFabricOptions,
    private ownAzurite: AzuriteHandle | undefined,
  ) {
    super();
  }

  /** Slots across the live executors: the default parallelism of a job. */
  get totalSlots(): number {
    return this.executors.length * this.slots;
  }

  /**
   * Settles once the executors the fabric started with are ready (those that could start):
   * rejects with the last start error when none did. Already settled when `startLocalFabric`
   * waited for them (the default).
   */
  get executorsReady(): Promise<void> {
    return this.startedExecutors;
  }

  /** @internal startLocalFabric: the start of the first executors. */
  trackStart(ready: Promise<void>): void {
    this.startedExecutors = ready;
    // Observed by whoever asks; never an unhandled rejection when nobody does.
    ready.catch(() => undefined);
  }

  /**
   * True when stopping the fabric removes its storage (an Azurite it started in a temp folder):
   * nothing an application leaves there outlives the fabric, so there is nothing to clean up.
   */
  get discardsStorage(): boolean {
    return this.ownAzurite?.discardsData === true;
  }

  /** @internal True once stop() was called (startLocalFabric reads it). */
  get isStopping(): boolean {
    return this.stopping;
  }

  /** Pid of the Azurite this fabric started (undefined when it reuses storage). */
  get azuritePid(): number | undefined {
    return this.ownAzurite?.pid;
  }

  /**
   * Start one more executor and wait until it is ready. A host that dies before its ready line
   * is replaced by a new one (a new id), up to EXECUTOR_START_TRIES starts in all; the last
   * start error is thrown when none became ready.
   */
  async addExecutor(): Promise<ExecutorHandle> {
    let lastError: unknown;
    for (let start = 1; start <= EXECUTOR_START_TRIES; start++) {
      if (this.stopping) break;
      try {
        return await this.startOneExecutor();
      } catch (error) {
        lastError = error;
        if (this.stopping || start === EXECUTOR_START_TRIES) break;
        this.log(
          `${(error as Error).message.split('\n')[0]}; starting another (${start + 1}/${EXECUTOR_START_TRIES})`,
        );
      }
    }
    throw lastError ?? new ExecutorStartError(`executor-${this.nextIndex}`, 'the fabric is stopping');
  }

  /** One start: spawn a host, wait for its ready line, stop it again when it never gets there. */
  private async startOneExecutor(): Promise<ExecutorHandle> {
    const executorId = `executor-${this.nextIndex++}`;
    if (this.stopping) throw new ExecutorStartError(executorId, 'the fabric is stopping');
    const spawned = spawnExecutorHost({
      connectionString: this.connectionString,
      executorId,
      slots: this.slots,
      queue: this.queue,
      ...(this.options.appDir !== undefined ? { appDir: this.options.appDir } : {}),
      ...(this.options.hostEnv !== undefined ? { env: this.options.hostEnv } : {}),
      ...(this.options.onExecutorOutput
        ? { onOutput: (stream, chunk) => this.options.onExecutorOutput!(executorId, stream, chunk) }
        : {}),
    }).then((handle) => {
      this.executors.push(handle);
      // Started in parallel, they arrive in any order; keep the list in id order for status lines.
      this.executors.sort((a, b) => executorNumber(a) - executorNumber(b));
      void handle.exited.then((exit) => this.onExit(handle, exit));
      this.options.onExecutorSpawned?.(handle);
      return handle;
    });
    this.spawning.add(spawned);
    let handle: ExecutorHandle;
    try {
      handle = await spawned;
    } finally {
      this.spawning.delete(spawned);
    }
    try {
      await handle.ready;
      this.started.add(handle);
    } catch (error) {
      this.deliberate.add(handle);
      await handle.stop(2_000);
      throw error;
    }
    return handle;
  }

  private onExit(handle: ExecutorHandle, exit: ProcessExit): void {
    const index = this.executors.indexOf(handle);
    if (index >= 0) this.executors.splice(index, 1);
    this.emit('executor-exited', handle, exit);
    const unexpected = this.started.has(handle) && !this.deliberate.has(handle) && !this.stopping;
    if (!unexpected || this.options.replaceDeadExecutors === false) return;
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    this.log(`executor ${handle.executorId} (pid ${handle.pid}) died (${how}); starting a replacement`);
    this.addExecutor().then(
      (replacement) => {
        this.log(`executor ${replacement.executorId} (pid ${replacement.pid}) replaced ${handle.executorId}`);
        this.emit('executor-replaced', handle, replacement);
      },
      (error: Error) => this.log(`could not replace executor ${handle.executorId}: ${error.message}`),
    );
  }

  /** SIGKILL one executor, as if its instance crashed; it is replaced unless replacement is off. */
  killExecutor(executorId: string): ExecutorHandle {
    const handle = this.executors.find((e) => e.executorId === executorId);
    if (!handle) throw new ConfigError(`no live executor ${executorId}`);
    handle.kill();
    return handle;
  }

  /**
   * Stop one executor gracefully (scale-in): its in-flight tasks are told to stop and their
   * messages return to the queue for the other executors; it is not replaced.
   */
  async stopExecutor(executorId: string, timeoutMs?: number): Promise<ProcessExit> {
    const handle = this.executors.find((e) => e.executorId === executorId);
    if (!handle) throw new ConfigError(`no live executor ${executorId}`);
    this.deliberate.add(handle);
    return handle.stop(timeoutMs);
  }

  /**
   * Publish this fabric's size for its queue (a small blob in `stratus-code`), so drivers and
   * `stratus explain` that join it with its connection string plan for its slots.
   */
  async publish(): Promise<void> {
    await new BlobStore(connectStorage({ connectionString: this.connectionString })).put(
      CODE_CONTAINER,
      fabricInfoBlobName(this.queue),
      JSON.stringify({
        executors: this.executors.length,
        slotsPerExecutor: this.slots,
        totalSlots: this.totalSlots,
      }),
    );
  }

  /**
   * Stop every executor gracefully, then the Azurite the fabric started (at once, SIGKILL, when
   * its temp folder is removed with it). Idempotent.
   */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.stopping = true;
    // A host being spawned joins `executors` when its process exists: wait for it, then stop all.
    await Promise.allSettled([...this.spawning]);
    await Promise.all([...this.executors].map((e) => e.stop(timeoutMs)));
    // An Azurite whose folder is removed next has nothing worth persisting on its way out.
    await this.ownAzurite?.stop(this.discardsStorage ? 0 : undefined);
  }

  /** @internal The Azurite this fabric started, once it serves (startLocalFabric); stopped with the fabric. */
  adoptAzurite(azurite: AzuriteHandle): void {
    this.ownAzurite = azurite;
  }

  /** @internal A status line of the fabric's start (startLocalFabric). */
  statusLine(line: string): void {
    this.log(line);
  }

  /** A status line (options.log, else stderr), redacted: an executor's error may quote its settings. */
  private log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(redactSecrets(line));
  }
}

/**
 * Start a local fabric: storage (a new Azurite unless a connection string is given), the task queue,
 * its poison queue and the stratus containers — what the Bicep deployment creates, so `stratus
 * doctor` and `status` find the same queues locally (the queue listener never creates its queue;
 * it creates the poison queue only at the first poisoned message, as the Functions host does) —
 * and the executors, all ready. The executor hosts are spawned as soon as Azurite's process
 * exists, not once it serves: the two slow parts of the start overlap. A start that fails
 * (Azurite does not come up, no executor does) stops every process it began.
 */
export async function startLocalFabric(options: LocalFabricOptions): Promise<LocalFabric> {
  if (!Number.isInteger(options.executors) || options.executors < 0)
    throw new ConfigError(`executors must be an integer ≥ 0, got ${options.executors}`);
  if (!Number.isInteger(options.slots) || options.slots < 1)
    throw new ConfigError(`slots must be an integer ≥ 1, got ${options.slots}`);
  const reuse = options.connectionString;
  if (reuse !== undefined) registerConnectionString(reuse);
  const queue = options.queue ?? DEFAULT_TASK_QUEUE;
  let fabric: LocalFabric | undefined;
  let starts: Promise<PromiseSettledResult<ExecutorHandle>[]> | undefined;
  // Each executor has its own bounded tries; the fabric starts with whichever executors came up.
  const spawnExecutors = (connectionString: string) => {
    fabric = new LocalFabric(connectionString, queue, options.slots, options, undefined);
    const own = fabric;
    starts = Promise.allSettled(Array.from({ length: options.executors }, () => own.addExecutor()));
  };
  let ownAzurite: AzuriteHandle | undefined;
  try {
    if (reuse !== undefined) spawnExecutors(reuse);
    else {
      ownAzurite = await startAzurite({
        ...(options.signal ? { signal: options.signal } : {}),
        onSpawned: (connectionString) => {
          if (fabric === undefined) spawnExecutors(connectionString);
        },
      });
      if (fabric === undefined || fabric.connectionString !== ownAzurite.connectionString) {
        // Azurite had to move to other ports (a port taken in a race): the early hosts point
        // nowhere; stop them and start the executors again on the ports it serves.
        await fabric?.stop(2_000);
        spawnExecutors(ownAzurite.connectionString);
      }
      fabric!.adoptAzurite(ownAzurite);
    }
    options.signal?.throwIfAborted();
    const storage = connectStorage({ connectionString: fabric!.connectionString });
    await Promise.all([
      new StorageQueue(storage, queue).ensure(),
      new StorageQueue(storage, poisonQueueName(queue)).ensure(),
      new BlobStore(storage).ensureContainers([CODE_CONTAINER, DATA_CONTAINER, LOGS_CONTAINER]),
    ]);
    // As Azure runs on the instances it has, the fabric fails only when no executor started.
    const own = fabric!;
    const ready = starts!.then((settled) => {
      // Stopped while its hosts started (a run whose module failed its checks): nothing to say.
      if (own.isStopping) throw new ConfigError('the local fabric was stopped while its executors started');
      const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
      if (options.executors > 0 && failures.length === options.executors) throw redactError(failures[0]);
      for (const failure of failures)
        own.statusLine(
          `going on without an executor that did not start in ${EXECUTOR_START_TRIES} tries: ${(failure as Error).message.split('\n')[0]}`,
        );
    });
    own.trackStart(ready);
    if (options.waitForExecutors !== false) await ready;
  } catch (error) {
    await (fabric as LocalFabric | undefined)?.stop(2_000);
    await ownAzurite?.stop();
    // Start errors carry executors' and Azurite's output: never a secret in them.
    throw redactError(error);
  }
  return fabric!;
}
