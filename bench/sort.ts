/**
 * Sort: seeded 100-byte records sorted by their 10-byte key, saved to blobs, validated (global
 * order and an order-independent checksum against the input's), with the executors' resident
 * memory sampled from /proc while a per-task memory budget far below the data size forces
 * spilling. The baseline is the raw I/O floor on the same Azurite in the same run: the same
 * bytes streamed through storage four times (read input, write shuffle, read shuffle, write
 * output) with as many streams as the fabric has slots.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Driver, type ShuffleCompression } from '../driver/app/driver.js';
import { quantile } from '../driver/scheduler/stats.js';
import { BlobStore } from '../storage/blob-store.js';
import { connectStorage } from '../storage/connection.js';
import { ChecksumBuilder, type RecordChecksum, SORT_RECORD_BYTES, sortRecordsFile } from './lib/datasets.js';
import { EventRecorder, stageLines } from './lib/events.js';
import { CpuAccount, type CpuUse, hostEnvWith, RssSampler, readRss, startBenchFabric } from './lib/fabric.js';
import { type BenchReport, mib, ratio, seconds, verdict } from './lib/report.js';
import { stageGaps } from './stage-latency.js';

const JOB = path.resolve(import.meta.dirname, 'jobs/sort-file.ts');
const OUTPUT_CONTAINER = 'bench-sort-output';
const FLOOR_CONTAINER = 'bench-sort-floor';
const BLOCK = 32 * 1024 * 1024;

/** Options of the sort bench. */
export interface SortOptions {
  megabytes: number;
  /** Per-task memory budget (MiB). */
  memoryMb: number;
  executors?: number;
  slots?: number;
  /** Input partition size (MiB); also the target size of a reduce partition. Default 32. */
  splitMb?: number;
  /** Shuffle compression (DriverOptions.shuffleCompression); default the driver's (none on Azurite). */
  compression?: ShuffleCompression;
  hostEnv?: Record<string, string>;
}

async function forEachConcurrently(count: number, concurrency: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/**
 * The raw I/O floor: upload the input in 32 MiB blobs (not timed: the input is in storage
 * before a real job starts), then time read input → write shuffle → read shuffle → write
 * output, `streams` blobs at a time.
 */
async function measureIoFloor(
  connectionString: string,
  file: string,
  streams: number,
  cpu: CpuAccount,
): Promise<number> {
  const blobs = new BlobStore(connectStorage({ connectionString }));
  await blobs.ensureContainers([FLOOR_CONTAINER]);
  let count = 0;
  const uploads: Promise<void>[] = [];
  for await (const chunk of createReadStream(file, { highWaterMark: BLOCK })) {
    uploads.push(blobs.put(FLOOR_CONTAINER, `input/${count++}`, chunk as Buffer));
    if (uploads.length >= streams) await uploads.shift();
  }
  await Promise.all(uploads);
  await cpu.start();
  const started = performance.now();
  await forEachConcurrently(count, streams, async (i) => {
    const data = await blobs.get(FLOOR_CONTAINER, `input/${i}`);
    await blobs.put(FLOOR_CONTAINER, `shuffle/${i}`, data);
  });
  await forEachConcurrently(count, streams, async (i) => {
    const data = await blobs.get(FLOOR_CONTAINER, `shuffle/${i}`);
    await blobs.put(FLOOR_CONTAINER, `output/${i}`, data);
  });
  const floorMs = performance.now() - started;
  await blobs.deletePrefix(FLOOR_CONTAINER, '');
  return floorMs;
}

/** Read the committed output part by part: global order by key, record count and checksum. */
async function validateOutput(
  connectionString: string,
  prefix: string,
): Promise<{ ordered: boolean; checksum: RecordChecksum; parts: number }> {
  const blobs = new BlobStore(connectStorage({ connectionString }));
  const parts = (await blobs.list(OUTPUT_CONTAINER, prefix))
    .map((b) => b.name)
    .filter((n) => /part-\d+$/.test(n))
    .sort();
  const checksum = new ChecksumBuilder();
  let previous = Buffer.alloc(0);
  let ordered = true;
  for (const name of parts) {
    const data = await blobs.get(OUTPUT_CONTAINER, name);
    let start = 0;
    while (start < data.length) {
      let end = data.indexOf(0x0a, start);
      if (end < 0) end = data.length;
      const key = data.subarray(start, start + 10);
      if (Buffer.compare(previous, key) > 0) ordered = false;
      previous = Buffer.from(key);
      checksum.add(data, start, end);
      start = end + 1;
    }
  }
  return { ordered, checksum: checksum.result(), parts: parts.length };
}

/** Generate (or reuse) the records, sort them with stratus, validate, then measure the floor. */
export async function benchSort(options: SortOptions): Promise<BenchReport[]> {
  const input = await sortRecordsFile(options.megabytes);
  const bytes = input.records * SORT_RECORD_BYTES;
  const executors = options.executors ?? 2;
  const slots = options.slots ?? 2;
  const splitBytes = (options.splitMb ?? 32) * 1024 * 1024;
  const partitions = Math.max(executors * slots, Math.ceil(bytes / splitBytes));
  const env = hostEnvWith(options.hostEnv);
  const fabric = await startBenchFabric({ executors, slots, hostEnv: env });
  const events = new EventRecorder();
  const sampler = new RssSampler(fabric.local, 100);
  const cpu = new CpuAccount(fabric);
  let cpuUse: CpuUse | undefined;
  let floorCpu: CpuUse | undefined;
  const idleRss = await Promise.all(fabric.local.executors.map((e) => readRss(e.pid)));
  let driver: Driver | undefined;
  const prefix = `run-${Date.now().toString(36)}/`;
  let runMs: number;
  let runStart: number;
  let validation: Awaited<ReturnType<typeof validateOutput>>;
  let floorMs: number;
  try {
    driver = await Driver.connect({
      connectionString: fabric.connectionString,
      taskQueue: fabric.local.queue,
      totalSlots: fabric.local.totalSlots,
      memoryBudgetBytes: options.memoryMb * 1024 * 1024,
      splitBytes,
      ...(options.compression ? { shuffleCompression: options.compression } : {}),
      listeners: [events],
      log: () => undefined,
    });
    sampler.start();
    await cpu.start();
    runStart = Date.now();
    await driver.run(JOB, { input: input.file, output: `az://${OUTPUT_CONTAINER}/${prefix}`, partitions });
    runMs = Date.now() - runStart;
    cpuUse = await cpu.stop();
    sampler.stop();
    await driver.close();
    driver = undefined;
    validation = await validateOutput(fabric.connectionString, prefix);
    const floorAccount = new CpuAccount(fabric);
    floorMs = await measureIoFloor(
      fabric.directConnectionString,
      input.file,
      executors * slots,
      floorAccount,
    );
    floorCpu = await floorAccount.stop();
  } finally {
    sampler.stop();
    await driver?.close();
    await fabric.stop();
  }
  const jobStarts = events.of('job-start').map((e) => e.at);
  const jobEnds = events.of('job-end').map((e) => e.at);
  const uploadMs = Math.min(...jobStarts) - runStart;
  const jobsMs = Math.max(...jobEnds) - Math.min(...jobStarts);
  const commitMs = runStart + runMs - Math.max(...jobEnds);
  const checksumOk =
    validation.checksum.records === input.checksum.records &&
    validation.checksum.sum === input.checksum.sum &&
    validation.checksum.xor === input.checksum.xor;
  const tasks = events.of('task-end').filter((e) => e.status === 'succeeded');
  const spills = tasks.reduce((n, t) => n + (t.metrics?.spillCount ?? 0), 0);
  const peakTask = Math.max(0, ...tasks.map((t) => t.metrics?.peakMemoryBytes ?? 0));
  const budgetPerExecutor = options.memoryMb * 1024 * 1024 * slots;
  const peaks = [...sampler.peaks.values()];
  const worst = Math.max(0, ...peaks.map((p) => p.peakBytes));
  const memoryOk = worst <= budgetPerExecutor + 256 * 1024 * 1024;
  const sortReport: BenchReport = {
    title: `sort: ${mib(bytes)} (${input.records} records of ${SORT_RECORD_BYTES} bytes), ${executors} executors × ${slots} slots, ${partitions} partitions of ${mib(splitBytes)}${options.compression ? `, shuffle compression ${options.compression}` : ''}`,
    rows: [
      {
        metric: 'raw I/O floor (4 passes through Azurite)',
        value: seconds(floorMs),
        note: `${((4 * bytes) / 1024 / 1024 / (floorMs / 1000)).toFixed(0)} MiB/s over ${executors * slots} streams`,
      },
      { metric: 'stratus, whole run', value: seconds(runMs), note: `${ratio(runMs, floorMs)} the floor` },
      {
        metric: 'of which input upload (driver)',
        value: seconds(uploadMs),
        note: 'cutting the local file into partition blobs; the floor assumes the input is in storage',
      },
      {
        metric: 'of which jobs (sampling + sort + write)',
        value: seconds(jobsMs),
        note: `${ratio(jobsMs, floorMs)} the floor; ${verdict(jobsMs <= 2 * floorMs)} (≤ 2.0×)`,
      },
      {
        metric: 'of which output commit (driver)',
        value: seconds(commitMs),
        note: 'one Put Block List per part of the winners’ staged blocks (no copy)',
      },
      {
        metric: 'stage latency p50 / p99 in this run',
        value: `${quantile(
          stageGaps(events).map((g) => g.totalMs),
          0.5,
        )} / ${quantile(
          stageGaps(events).map((g) => g.totalMs),
          0.99,
        )} ms`,
        note: `${stageGaps(events).length} stage boundaries (last task end → first task start)`,
      },
      {
        metric: 'output valid',
        value: String(validation.ordered && checksumOk),
        note: `ordered ${validation.ordered}, checksum ${checksumOk ? 'equal' : 'DIFFERENT'} (${validation.checksum.records} records in ${validation.parts} parts)`,
      },
    ],
    notes: [
      cpuUse?.line ?? '',
      `Azurite CPU: ${(cpuUse?.azurite ?? 0).toFixed(1)} s for the stratus run, which moves the data through storage 6 times (upload, sampling read, map read, shuffle write and read, output write; the commit moves none), against ${(floorCpu?.azurite ?? 0).toFixed(1)} s for the floor's 4 passes; executors ${(cpuUse?.executors ?? 0).toFixed(1)} s of CPU for ${(bytes / 1024 / 1024).toFixed(0)} MiB (${(bytes / 1024 / 1024 / Math.max(0.001, cpuUse?.executors ?? 0)).toFixed(1)} MiB per executor CPU-second over the three stages)`,
      ...stageLines(events),
      `input ${input.file}`,
      `executor host environment: ${JSON.stringify(env)}`,
    ],
  };
  const memoryReport: BenchReport = {
    title: `peak executor memory during the sort of ${mib(bytes)}, memory budget ${options.memoryMb} MiB per task × ${slots} slots`,
    rows: [
      ...peaks.map((p, i) => ({
        metric: `${p.executorId} peak RSS`,
        value: mib(p.peakBytes),
        note: `idle before the run ${idleRss[i] !== undefined ? mib(idleRss[i]!) : 'n/a'}`,
      })),
      {
        metric: 'budget per executor + 256 MiB',
        value: mib(budgetPerExecutor + 256 * 1024 * 1024),
        note: `${verdict(memoryOk)}: worst ${mib(worst)}`,
      },
      { metric: 'largest task peak (engine estimate)', value: mib(peakTask) },
      { metric: 'spilled runs (all tasks)', value: String(spills) },
    ],
    notes: [
      `executor NODE_OPTIONS: ${env.NODE_OPTIONS ?? '(none)'}`,
      'RSS sampled every 100 ms from /proc/<pid>/status (VmRSS) of each executor host process (worker threads included).',
      'The budget bounds what the sorter, the aggregators and the map output hold (they spill beyond it); outside it a task holds a 4 MiB input range read, up to R × 1,024 records waiting to be encoded for the shuffle, the shuffle segments being fetched (up to 8 at once), and per output blob one 8 MiB block being filled plus two in flight; and V8 lets each thread’s heap and its dead Buffers grow well past the live data before it collects. Capping the executors’ V8 heap (--executor-node-options=--max-old-space-size=N) lowers the peak somewhat, at some time cost.',
    ],
  };
  return [sortReport, memoryReport];
}
