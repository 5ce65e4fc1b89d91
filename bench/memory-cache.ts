/**
 * Executor memory copies of cached partitions (issue 15 item 2): a cache()d dataset computed
 * by one job and read by five more, on one executor (so every later read may hit its memory
 * copy), with copies on (STRATUS_CACHE_MEMORY_MB default) and off (0), on the same Azurite in
 * the same run. Reports the later jobs' median time in each case, their ratio, and the Blob GETs
 * of cache blobs counted at a proxy (copies on: none expected).
 */
import path from 'node:path';
import { Driver } from '../driver/app/driver.js';
import type { RunEvent, RunListener } from '../driver/observe/run-events.js';
import { quantile } from '../driver/scheduler/stats.js';
import { hostEnvWith, startBenchFabric } from './lib/fabric.js';
import { type BenchReport, type Row, ratio } from './lib/report.js';

const JOB = path.resolve(import.meta.dirname, 'jobs/cached-reads.ts');

/** Options of the memory-cache bench. */
export interface MemoryCacheOptions {
  records: number;
  partitions: number;
  /** Jobs reading the cached dataset after the one that computes it. */
  reads: number;
  /** Runs of the whole job module per setting (each computes the dataset again: other params). */
  repeats: number;
  hostEnv?: Record<string, string>;
}

class JobTimes implements RunListener {
  private readonly started = new Map<number, number>();
  readonly durations: number[] = [];
  onEvent(event: RunEvent): void {
    if (event.type === 'job-start') this.started.set(event.jobId, event.at);
    if (event.type === 'job-end') this.durations.push(event.at - (this.started.get(event.jobId) ?? event.at));
  }
}

interface Measured {
  /** Durations of the reading jobs (ms), all repeats. */
  readMs: number[];
  /** Durations of the computing jobs (ms). */
  computeMs: number[];
  cacheGets: number;
}

async function measure(options: MemoryCacheOptions, cacheMb: string): Promise<Measured> {
  const env = hostEnvWith({ ...options.hostEnv, STRATUS_CACHE_MEMORY_MB: cacheMb });
  const fabric = await startBenchFabric({ executors: 1, slots: 2, hostEnv: env, countRequests: true });
  let gets = 0;
  const stop = fabric.counter!.onRequest((r) => {
    if (r.kind.startsWith('blob:read') && r.path.includes('/cache/')) gets++;
  });
  const times = new JobTimes();
  const driver = await Driver.connect({
    connectionString: fabric.connectionString,
    taskQueue: fabric.local.queue,
    totalSlots: fabric.local.totalSlots,
    listeners: [times],
    log: () => undefined,
  });
  const result: Measured = { readMs: [], computeMs: [], cacheGets: 0 };
  try {
    // Warm-up (bundle upload, per-thread caches), not measured.
    await driver.run(JOB, { records: 1000, partitions: options.partitions, reads: 1 });
    gets = 0;
    for (let r = 0; r < options.repeats; r++) {
      times.durations.length = 0;
      // Records differ per repeat: another dataset, computed again (not a cross-run cache hit).
      const counts = (await driver.run(JOB, {
        records: options.records + r,
        partitions: options.partitions,
        reads: options.reads,
      })) as Record<string, number>;
      for (const [name, n] of Object.entries(counts))
        if (n !== options.records + r)
          throw new Error(`${name} counted ${n}, expected ${options.records + r}`);
      const [compute, ...reads] = times.durations;
      result.computeMs.push(compute!);
      result.readMs.push(...reads);
    }
    result.cacheGets = gets;
  } finally {
    stop();
    await driver.close();
    await fabric.stop();
  }
  return result;
}

/** Later-job time with and without executor memory copies of the cached partitions. */
export async function benchMemoryCache(options: MemoryCacheOptions): Promise<BenchReport> {
  const on = await measure(options, '256');
  const off = await measure(options, '0');
  const median = (xs: number[]) => quantile(xs, 0.5);
  const rows: Row[] = [
    {
      metric: 'reading job, copies off (STRATUS_CACHE_MEMORY_MB=0): median',
      value: `${Math.round(median(off.readMs))} ms`,
      note: `${off.readMs.length} jobs; every read is a Blob GET (${off.cacheGets} counted)`,
    },
    {
      metric: 'reading job, copies on (default 256 MiB): median',
      value: `${Math.round(median(on.readMs))} ms`,
      note: `${on.readMs.length} jobs; ${on.cacheGets} Blob GETs of cache blobs`,
    },
    { metric: 'reading job: on / off', value: ratio(median(on.readMs), median(off.readMs)) },
    {
      metric: 'computing job (tees to blob, and to memory when on): median on / off',
      value: `${Math.round(median(on.computeMs))} / ${Math.round(median(off.computeMs))} ms`,
    },
  ];
  return {
    title: 'Executor memory copies of cached partitions (issue 15 item 2)',
    rows,
    notes: [
      `1 executor × 2 slots; ${options.records} records (~130 B of JSON each) in ${options.partitions} cached partitions; 1 job computes, ${options.reads} count it; ${options.repeats} repeats per setting`,
    ],
  };
}
