/**
 * Word count: the example job (examples/wordcount.ts) on generated text, against a
 * single-process plain-Node program doing the same computation on the same file in the same
 * run (same split, same lower-casing, same top-10 order, distinct count). The answers must match.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { Driver, type ShuffleCompression } from '../driver/app/driver.js';
import { quantile } from '../driver/scheduler/stats.js';
import { wordCountText } from './lib/datasets.js';
import { EventRecorder, stageLines } from './lib/events.js';
import { CpuAccount, type CpuUse, hostEnvWith, startBenchFabric } from './lib/fabric.js';
import { type BenchReport, mib, ratio, seconds, verdict } from './lib/report.js';
import { stageGaps } from './stage-latency.js';

const JOB = path.resolve(import.meta.dirname, '../examples/wordcount.ts');

interface WordCountAnswer {
  top: [string, number][];
  distinct: number;
}

/** The plain-Node baseline: stream the file, count words in a Map, sort for the top 10. */
export async function wordCountBaseline(file: string): Promise<WordCountAnswer> {
  const counts = new Map<string, number>();
  let rest = '';
  const countLine = (line: string) => {
    for (const word of line.toLowerCase().split(/[^\p{L}\p{N}']+/u)) {
      if (word.length > 0) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  };
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1024 * 1024 })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break;
      countLine(text.slice(start, end));
      start = end + 1;
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) countLine(rest);
  const top = [...counts]
    .sort(([wa, na], [wb, nb]) => nb - na || (wa < wb ? -1 : wa > wb ? 1 : 0))
    .slice(0, 10);
  return { top, distinct: counts.size };
}

/** Options of the word-count bench. */
export interface WordCountOptions {
  megabytes: number;
  executors?: number;
  slots?: number;
  /** Shuffle compression (DriverOptions.shuffleCompression); default the driver's (none on Azurite). */
  compression?: ShuffleCompression;
  hostEnv?: Record<string, string>;
}

/** Generate (or reuse) the text, run the baseline, then stratus, and compare. */
export async function benchWordCount(options: WordCountOptions): Promise<BenchReport> {
  const file = await wordCountText(options.megabytes);
  const bytes = (await stat(file)).size;
  const baselineStart = performance.now();
  const baselineCpu = process.cpuUsage();
  const baseline = await wordCountBaseline(file);
  const baselineMs = performance.now() - baselineStart;
  const baselineCpuUsage = process.cpuUsage(baselineCpu);
  const baselineCpuMs = (baselineCpuUsage.user + baselineCpuUsage.system) / 1000;

  const executors = options.executors ?? 2;
  const slots = options.slots ?? 2;
  const env = hostEnvWith(options.hostEnv);
  const fabric = await startBenchFabric({ executors, slots, hostEnv: env });
  const events = new EventRecorder();
  const cpu = new CpuAccount(fabric);
  let cpuUse: CpuUse | undefined;
  let driver: Driver | undefined;
  let answer: WordCountAnswer;
  let runMs: number;
  let runStart: number;
  try {
    driver = await Driver.connect({
      connectionString: fabric.connectionString,
      taskQueue: fabric.local.queue,
      totalSlots: fabric.local.totalSlots,
      ...(options.compression ? { shuffleCompression: options.compression } : {}),
      listeners: [events],
      log: () => undefined,
    });
    await cpu.start();
    runStart = Date.now();
    answer = (await driver.run(JOB, { input: file })) as WordCountAnswer;
    runMs = Date.now() - runStart;
    cpuUse = await cpu.stop();
  } finally {
    await driver?.close();
    await fabric.stop();
  }
  const same = JSON.stringify(answer) === JSON.stringify(baseline);
  if (!same) throw new Error(`word count differs from the baseline: ${JSON.stringify({ answer, baseline })}`);
  const firstJob = Math.min(...events.of('job-start').map((e) => e.at));
  const uploadMs = firstJob - runStart;
  const jobsMs = runMs - uploadMs;
  const tasks = events.of('task-end').filter((e) => e.status === 'succeeded');
  const taskCpuMs = tasks.reduce((n, t) => n + (t.metrics?.durationMs ?? 0), 0);
  return {
    title: `word count: ${mib(bytes)} of generated text, ${executors} executors × ${slots} slots${options.compression ? `, shuffle compression ${options.compression}` : ''}`,
    rows: [
      {
        metric: 'plain-Node baseline (1 process)',
        value: seconds(baselineMs),
        note: `${(bytes / 1024 / 1024 / (baselineMs / 1000)).toFixed(1)} MiB/s`,
      },
      {
        metric: 'stratus, whole run',
        value: seconds(runMs),
        note: `${ratio(runMs, baselineMs)} the baseline; ${verdict(runMs <= baselineMs)} (≤ 1.0×)`,
      },
      {
        metric: 'of which input upload (driver)',
        value: seconds(uploadMs),
        note: 'cutting the file into partition blobs',
      },
      { metric: 'of which jobs', value: seconds(jobsMs), note: `${ratio(jobsMs, baselineMs)} the baseline` },
      { metric: 'tasks / summed task time', value: `${tasks.length} / ${seconds(taskCpuMs)}` },
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
        metric: 'answers equal',
        value: String(same),
        note: `distinct ${baseline.distinct}, top ${baseline.top[0]?.join(' ')}`,
      },
    ],
    notes: [
      `baseline CPU ${(baselineCpuMs / 1000).toFixed(1)} s in ${(baselineMs / 1000).toFixed(1)} s wall`,
      cpuUse?.line ?? '',
      `stratus used ${(((cpuUse?.executors ?? 0) + (cpuUse?.azurite ?? 0) + (cpuUse?.driver ?? 0)) / (baselineCpuMs / 1000)).toFixed(2)}× the baseline's CPU (executors alone ${((cpuUse?.executors ?? 0) / (baselineCpuMs / 1000)).toFixed(2)}×): with ${executors * slots} task threads on ${cpus().length} cores it can only beat the baseline if that ratio stays under the cores it gets`,
      ...stageLines(events),
      `input ${file}`,
      `executor host environment: ${JSON.stringify(env)}`,
    ],
  };
}
