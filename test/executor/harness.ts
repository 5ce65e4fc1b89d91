/**
 * Test harness for executor hosts against a real Azurite: the storage connection (from the suite's
 * global setup when it provides one, else an Azurite this file starts), executor host processes
 * spawned per the process contract, task/event queues per test, and bounded waits for the event
 * that proves a state.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import {
  HOST_ENV,
  type HostLine,
  localHostArgs,
  QUEUE_OVERRIDE_ENV,
  slotsEnv,
} from '../../contract/local-host-process.js';
import { eventsQueueName } from '../../contract/names.js';
import {
  decodeWire,
  type ExecutorEvent,
  encodeTaskMessage,
  type NoopWork,
  parseExecutorEvent,
} from '../../contract/protocol.js';
import { azuriteConnectionString, connectStorage, type StorageConnection } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { waitFor } from '../helpers/processes.js';

export { waitFor } from '../helpers/processes.js';

declare module 'vitest' {
  interface ProvidedContext {
    connectionString: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Storage for one test file: the suite's Azurite, or one started here (stopped by `close`). */
export class TestStorage {
  private constructor(
    readonly connectionString: string,
    readonly connection: StorageConnection,
    private readonly azurite?: { process: ChildProcess; dir: string },
  ) {}

  /** Use the global setup's Azurite when provided, else start one on free ports. */
  static async open(): Promise<TestStorage> {
    let provided: string | undefined;
    try {
      provided = inject('connectionString');
    } catch {
      provided = undefined;
    }
    if (provided) return new TestStorage(provided, connectStorage({ connectionString: provided }));
    const dir = await mkdtemp(path.join(tmpdir(), 'stratus-azurite-'));
    const [blobPort, queuePort, tablePort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        'node_modules/azurite/dist/src/azurite.js',
        ...['--disableTelemetry', '--skipApiVersionCheck', '--loose', '--silent', '--location', dir],
        ...[
          '--blobPort',
          String(blobPort),
          '--queuePort',
          String(queuePort),
          '--tablePort',
          String(tablePort),
        ],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    await waitFor('Azurite queue service', () =>
      output.includes(`listening at http://127.0.0.1:${queuePort}`),
    );
    const cs = azuriteConnectionString(blobPort, queuePort);
    return new TestStorage(cs, connectStorage({ connectionString: cs }), { process: child, dir });
  }

  /** A queue client for `name`. */
  queue(name: string): StorageQueue {
    return new StorageQueue(this.connection, name);
  }

  /** Stop the Azurite this file started, if any. */
  async close(): Promise<void> {
    if (!this.azurite) return;
    const { process: child, dir } = this.azurite;
    if (child.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** One spawned executor host process and everything it printed. */
export class ExecutorHost {
  readonly lines: (HostLine & { receivedAt: number })[] = [];
  stderr = '';
  exitCode: number | null | undefined;
  private readonly exit: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts)
        if (part.trim()) this.lines.push({ ...JSON.parse(part), receivedAt: Date.now() });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exit = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  /** The process id (for signals). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Lines of one event kind. */
  linesOf<E extends HostLine['event']>(event: E): Extract<HostLine, { event: E }>[] {
    return this.lines.filter((l) => l.event === event) as unknown as Extract<HostLine, { event: E }>[];
  }

  /** Resolves with the ready line; throws if the host exits first. */
  async ready(timeoutMs = 20_000): Promise<Extract<HostLine, { event: 'ready' }>> {
    return waitFor(
      'executor ready line',
      () => {
        if (this.exitCode !== undefined) throw new Error(`host exited with ${this.exitCode}: ${this.stderr}`);
        return this.linesOf('ready')[0];
      },
      timeoutMs,
    );
  }

  /** Wait for the process to exit; returns its exit code. */
  async exited(timeoutMs = 20_000): Promise<number | null> {
    return Promise.race([
      this.exit,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`host ${this.pid} did not exit within ${timeoutMs} ms`)),
          timeoutMs,
        ).unref(),
      ),
    ]);
  }

  /** Send a signal unless the process already exited. */
  signal(signal: NodeJS.Signals): void {
    if (this.exitCode === undefined) process.kill(this.pid, signal);
  }
}

/** Options of one spawned host. */
export interface HostOptions {
  queue: string;
  slots?: number;
  executorId?: string;
  appDir?: string;
  env?: Record<string, string>;
}

/** Spawns hosts for one test file and kills whatever is left at the end. */
export class HostFleet {
  readonly hosts: ExecutorHost[] = [];

  constructor(private readonly storage: TestStorage) {}

  /** Spawn a host per the process contract (`node dist/executor-function/local-host/main.js --app …`). */
  start(options: HostOptions): ExecutorHost {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      AzureWebJobsStorage: this.storage.connectionString,
      [HOST_ENV.taskQueue]: options.queue,
      [HOST_ENV.executorId]: options.executorId ?? `${options.queue}-x${this.hosts.length}`,
      [HOST_ENV.verbose]: '1',
      [QUEUE_OVERRIDE_ENV.maxPollingInterval]: '00:00:01',
      ...slotsEnv(options.slots ?? 2),
      ...options.env,
    };
    const child = spawn(process.execPath, localHostArgs(options.appDir), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const host = new ExecutorHost(child);
    this.hosts.push(host);
    return host;
  }

  /** SIGKILL every host still running and wait for it. */
  async killAll(): Promise<void> {
    await Promise.all(
      this.hosts.map(async (h) => {
        if (h.exitCode !== undefined) return;
        h.signal('SIGKILL');
        await h.exited();
      }),
    );
  }
}

/** A task queue plus an events queue for one test; collects decoded executor events. */
export class TaskChannel {
  readonly events: ExecutorEvent[] = [];
  readonly tasks: StorageQueue;
  readonly poison: StorageQueue;
  readonly eventsQueue: StorageQueue;
  private collecting = false;
  private collector: Promise<void> | undefined;

  constructor(
    storage: TestStorage,
    readonly name: string,
  ) {
    this.tasks = storage.queue(name);
    this.poison = storage.queue(`${name}-poison`);
    this.eventsQueue = storage.queue(eventsQueueName(name));
  }

  /** Create both queues and start collecting events. */
  async open(): Promise<void> {
    await Promise.all([this.tasks.ensure(), this.eventsQueue.ensure()]);
    this.collecting = true;
    this.collector = this.collect();
  }

  private async collect(): Promise<void> {
    while (this.collecting) {
      const batch = await this.eventsQueue.receive(32, 30).catch(() => []);
      for (const m of batch) {
        this.events.push(parseExecutorEvent(decodeWire(m.text)));
        await this.eventsQueue.delete(m).catch(() => undefined);
      }
      if (batch.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Send a noop task for `partition`; returns its wire text. */
  async sendNoop(
    partition: number,
    work: Partial<Omit<NoopWork, 'kind'>> = {},
    attempt = 0,
  ): Promise<string> {
    const text = encodeTaskMessage({
      v: 1,
      type: 'task',
      appId: this.name,
      jobId: 0,
      stageId: 0,
      partition,
      attempt,
      eventsQueue: this.eventsQueue.name,
      sentAt: Date.now(),
      work: { kind: 'noop', ...work },
    });
    await this.tasks.send(text);
    return text;
  }

  /** Events of one type. */
  eventsOf<T extends ExecutorEvent['type']>(type: T): Extract<ExecutorEvent, { type: T }>[] {
    return this.events.filter((e) => e.type === type) as Extract<ExecutorEvent, { type: T }>[];
  }

  /** Wait until `count` events of `type` arrived. */
  async waitForEvents<T extends ExecutorEvent['type']>(type: T, count: number, timeoutMs = 30_000) {
    return waitFor(
      `${count} ${type} event(s) on ${this.name}`,
      () => {
        const found = this.eventsOf(type);
        return found.length >= count ? found : undefined;
      },
      timeoutMs,
    );
  }

  /** Stop collecting and delete the queues. */
  async close(): Promise<void> {
    this.collecting = false;
    await this.collector;
    await Promise.all([this.tasks.destroy(), this.poison.destroy(), this.eventsQueue.destroy()]);
  }
}

/** The task channels of one test file, each on a queue of its own; `closeAll` at the end deletes them. */
export class TaskChannels {
  private readonly opened: TaskChannel[] = [];

  constructor(private readonly storage: TestStorage) {}

  /** Open a channel on a fresh queue named after `label`. */
  open(label: string): Promise<TaskChannel> {
    return this.openOn(uniqueQueueName(label));
  }

  /** Open a channel on the queue `name` (created here when it does not exist yet). */
  async openOn(name: string): Promise<TaskChannel> {
    const c = new TaskChannel(this.storage, name);
    this.opened.push(c);
    await c.open();
    return c;
  }

  /** Stop collecting on every channel and delete their queues. */
  async closeAll(): Promise<void> {
    await Promise.all(this.opened.map((c) => c.close()));
  }
}

let counter = 0;
/** A queue name unique to this test run (lowercase, ≤ 63 chars). */
export function uniqueQueueName(label: string): string {
  counter += 1;
  return `t-${label}-${process.pid}-${counter}-${Date.now().toString(36)}`.slice(0, 40).replace(/-+$/, '');
}

/** One test file's storage, executor hosts and task queues: opened before its tests, all stopped after. */
export interface HostFleetEnv {
  readonly storage: TestStorage;
  readonly fleet: HostFleet;
  readonly channels: TaskChannels;
}

/** Register the file's `beforeAll`/`afterAll` for a `HostFleetEnv`; read its fields inside tests. */
export function useHostFleet(): HostFleetEnv {
  let opened: HostFleetEnv | undefined;
  const ready = (): HostFleetEnv => {
    if (!opened) throw new Error('useHostFleet: read the environment inside a test, after beforeAll');
    return opened;
  };
  beforeAll(async () => {
    const storage = await TestStorage.open();
    opened = { storage, fleet: new HostFleet(storage), channels: new TaskChannels(storage) };
  });
  afterAll(async () => {
    await opened?.fleet.killAll();
    await opened?.channels.closeAll();
    await opened?.storage.close();
  });
  return {
    get storage() {
      return ready().storage;
    },
    get fleet() {
      return ready().fleet;
    },
    get channels() {
      return ready().channels;
    },
  };
}
