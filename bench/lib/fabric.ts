/**
 * The benches' fabric: an Azurite they start (so they can reach it directly for the raw
 * floors), optionally behind the counting proxy, plus executor host processes on it, and a
 * sampler of the executors' resident memory read from /proc by pid.
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { type AzuriteHandle, startAzurite } from '../../driver/fabric/azurite.js';
import { type LocalFabric, startLocalFabric } from '../../driver/fabric/local-fabric.js';
import { RequestCounter } from '../../storage/testing/request-counter.js';

/** Azurite + executors for one bench; `stop` tears down in order. */
export interface BenchFabric {
  azurite: AzuriteHandle;
  local: LocalFabric;
  /** Connection string clients use (the proxy's when counting). */
  connectionString: string;
  /** Azurite's own connection string (bypasses the counting proxy). */
  directConnectionString: string;
  counter: RequestCounter | undefined;
  stop(): Promise<void>;
}

/** Executor host settings for every bench, plus `extra`. Defaults are the shipped host.json's. */
export function hostEnvWith(extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra };
}

/** Start Azurite (on disk, as `stratus local` runs it) and `executors` × `slots` executor hosts. */
export async function startBenchFabric(options: {
  executors: number;
  slots: number;
  hostEnv?: Record<string, string>;
  countRequests?: boolean;
  queue?: string;
}): Promise<BenchFabric> {
  const azurite = await startAzurite();
  let counter: RequestCounter | undefined;
  try {
    if (options.countRequests) counter = await RequestCounter.start(azurite.blobPort, azurite.queuePort);
    const connectionString = counter?.connectionString ?? azurite.connectionString;
    const local = await startLocalFabric({
      executors: options.executors,
      slots: options.slots,
      queue: options.queue ?? 'stratus-bench',
      connectionString,
      ...(options.hostEnv ? { hostEnv: options.hostEnv } : {}),
      log: (line) => process.stderr.write(`  fabric: ${line}\n`),
    });
    return {
      azurite,
      local,
      connectionString,
      directConnectionString: azurite.connectionString,
      counter,
      async stop() {
        await local.stop();
        await counter?.stop();
        await azurite.stop();
      },
    };
  } catch (error) {
    await counter?.stop();
    await azurite.stop();
    throw error;
  }
}

/** Resident set size of a process (bytes) from /proc/<pid>/status, or undefined when it is gone. */
export async function readRss(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the RSS of the fabric's live executor processes every `everyMs`; keeps the peak per pid. */
export class RssSampler {
  readonly peaks = new Map<number, { executorId: string; peakBytes: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fabric: LocalFabric,
    private readonly everyMs = 100,
  ) {}

  start(): void {
    const sample = async () => {
      for (const e of this.fabric.executors) {
        const rss = await readRss(e.pid);
        if (rss === undefined) continue;
        const entry = this.peaks.get(e.pid) ?? { executorId: e.executorId, peakBytes: 0 };
        entry.peakBytes = Math.max(entry.peakBytes, rss);
        this.peaks.set(e.pid, entry);
      }
    };
    this.timer = setInterval(() => void sample(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** CPU time (user + system, seconds) a process has used so far, from /proc/<pid>/stat; undefined when gone. */
export async function readCpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** CPU seconds used between `start()` and `stop()` by the executors, Azurite and this process. */
export class CpuAccount {
  private readonly before = new Map<number, number>();
  private driverBefore = process.cpuUsage();
  private startedAt = 0;

  constructor(private readonly fabric: BenchFabric) {}

  private pids(): number[] {
    return [this.fabric.azurite.pid, ...this.fabric.local.executors.map((e) => e.pid)];
  }

  async start(): Promise<void> {
    for (const pid of this.pids()) this.before.set(pid, (await readCpuSeconds(pid)) ?? 0);
    this.driverBefore = process.cpuUsage();
    this.startedAt = performance.now();
  }

  /** CPU seconds of executors, Azurite and the driver since `start()`, with a one-line summary. */
  async stop(): Promise<CpuUse> {
    const wall = (performance.now() - this.startedAt) / 1000;
    let executors = 0;
    for (const e of this.fabric.local.executors) {
      executors += ((await readCpuSeconds(e.pid)) ?? 0) - (this.before.get(e.pid) ?? 0);
    }
    const azurite =
      ((await readCpuSeconds(this.fabric.azurite.pid)) ?? 0) -
      (this.before.get(this.fabric.azurite.pid) ?? 0);
    const d = process.cpuUsage(this.driverBefore);
    const driver = (d.user + d.system) / 1e6;
    const cores = cpus().length;
    const line = `CPU over the run (${wall.toFixed(1)} s wall, ${cores} cores = ${(cores * wall).toFixed(0)} core-s): executors ${executors.toFixed(1)} s, Azurite ${azurite.toFixed(1)} s, driver (this process) ${driver.toFixed(1)} s; other processes on the machine used the rest`;
    return { wall, executors, azurite, driver, line };
  }
}

/** CPU seconds used over a measured span, by role. */
export interface CpuUse {
  wall: number;
  executors: number;
  azurite: number;
  driver: number;
  /** A one-line summary for a report. */
  line: string;
}
