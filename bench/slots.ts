/**
 * Slots in parallel: the word-count job on one executor with 1 slot, then with 2 slots, on the
 * same file in the same run. Node runs JavaScript on one thread, so two slots only help if
 * concurrent tasks really run on separate cores (the executor's task threads). The speedup of
 * the map stage (the CPU-bound part) is the figure; on this 2-core machine it is bounded by the
 * CPU Azurite and the driver need at the same time.
 */
import path from 'node:path';
import { Driver } from '../driver/app/driver.js';
import { wordCountText } from './lib/datasets.js';
import { EventRecorder } from './lib/events.js';
import { hostEnvWith, startBenchFabric } from './lib/fabric.js';
import { type BenchReport, mib, seconds } from './lib/report.js';
import { wordCountBaseline } from './wordcount.js';

const JOB = path.resolve(import.meta.dirname, '../examples/wordcount.ts');

/** Options of the slots bench. */
export interface SlotsOptions {
  megabytes: number;
  hostEnv?: Record<string, string>;
}

interface SlotRun {
  slots: number;
  runMs: number;
  mapStageMs: number;
  taskMs: number;
}

async function runWithSlots(file: string, slots: number, hostEnv: Record<string, string>): Promise<SlotRun> {
  const fabric = await startBenchFabric({ executors: 1, slots, hostEnv });
  const events = new EventRecorder();
  let driver: Driver | undefined;
  try {
    driver = await Driver.connect({
      connectionString: fabric.connectionString,
      taskQueue: fabric.local.queue,
      // The same plan for both runs (8 map tasks, 8 reduce partitions), whatever the slots.
      totalSlots: 8,
      listeners: [events],
      log: () => undefined,
    });
    const started = Date.now();
    const answer = await driver.run(JOB, { input: file });
    const runMs = Date.now() - started;
    const reference = await wordCountBaseline(file);
    if (JSON.stringify(answer) !== JSON.stringify(reference)) {
      throw new Error(`word count with ${slots} slots differs from the reference`);
    }
    // The first stage submitted is the word count's map stage (textFile → flatMap → filter → map).
    const map = events.of('stage-submitted')[0];
    if (!map) throw new Error('no stage was submitted');
    const mapEnd = events.of('stage-completed').find((s) => s.stageId === map.stageId)?.at ?? map.at;
    const tasks = events.of('task-end').filter((e) => e.status === 'succeeded' && e.stageId === map.stageId);
    return {
      slots,
      runMs,
      mapStageMs: mapEnd - map.at,
      taskMs: tasks.reduce((n, t) => n + (t.metrics?.durationMs ?? 0), 0),
    };
  } finally {
    await driver?.close();
    await fabric.stop();
  }
}

/** Run the word count with 1 and 2 slots on one executor and compare. */
export async function benchSlots(options: SlotsOptions): Promise<BenchReport> {
  const file = await wordCountText(options.megabytes);
  const env = hostEnvWith(options.hostEnv);
  const one = await runWithSlots(file, 1, env);
  const two = await runWithSlots(file, 2, env);
  const speedup = one.mapStageMs / Math.max(1, two.mapStageMs);
  return {
    title: `slots in parallel: word count of ${mib(options.megabytes * 1024 * 1024)} on 1 executor, 1 slot vs 2 slots`,
    rows: [
      {
        metric: '1 slot: map stage / whole run',
        value: `${seconds(one.mapStageMs)} / ${seconds(one.runMs)}`,
      },
      {
        metric: '2 slots: map stage / whole run',
        value: `${seconds(two.mapStageMs)} / ${seconds(two.runMs)}`,
      },
      {
        metric: 'map-stage speedup with 2 slots',
        value: `${speedup.toFixed(2)}×`,
        note: 'two task threads on two cores; 1.0× would mean the slots serialize on one thread',
      },
      {
        metric: 'summed map task time, 1 / 2 slots',
        value: `${seconds(one.taskMs)} / ${seconds(two.taskMs)}`,
        note: 'a task takes longer when two share the machine with Azurite and the driver',
      },
    ],
    notes: [`input ${file}`, `executor host environment: ${JSON.stringify(env)}`],
  };
}
