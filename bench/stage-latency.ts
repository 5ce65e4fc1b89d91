/**
 * Stage latency: from the last task of a stage finishing to the first task of the next one
 * starting, read from the run events of a job made of a chain of shuffles. Each gap is split
 * into its parts: the driver noticing the last task and submitting the next stage (event
 * poll, map-output table, stage descriptor), and the task queue delivering the first new task
 * to an executor (the executor's poll back-off).
 */
import path from 'node:path';
import { Driver } from '../driver/app/driver.js';
import { quantile } from '../driver/scheduler/stats.js';
import { EventRecorder } from './lib/events.js';
import { hostEnvWith, startBenchFabric } from './lib/fabric.js';
import { type BenchReport, verdict } from './lib/report.js';

const JOB = path.resolve(import.meta.dirname, 'jobs/stages.ts');

/** One stage boundary and its parts (ms). */
export interface StageGap {
  totalMs: number;
  /** Last parent task-end → stage-submitted (driver side). */
  driverMs: number;
  /** stage-submitted → first task-start (send, queue, executor poll, task start). */
  pickupMs: number;
}

/** Stage boundaries of a recorded run: one per stage that has parents. */
export function stageGaps(events: EventRecorder): StageGap[] {
  const gaps: StageGap[] = [];
  const ends = new Map<number, number>();
  for (const e of events.of('task-end')) {
    if (e.status !== 'succeeded') continue;
    ends.set(e.stageId, Math.max(ends.get(e.stageId) ?? 0, e.at));
  }
  const starts = new Map<number, number>();
  for (const e of events.of('task-start'))
    starts.set(e.stageId, Math.min(starts.get(e.stageId) ?? Infinity, e.at));
  for (const s of events.of('stage-submitted')) {
    if (s.parentStageIds.length === 0) continue;
    const parentEnd = Math.max(...s.parentStageIds.map((p) => ends.get(p) ?? 0));
    const firstStart = starts.get(s.stageId);
    if (parentEnd === 0 || firstStart === undefined) continue;
    gaps.push({ totalMs: firstStart - parentEnd, driverMs: s.at - parentEnd, pickupMs: firstStart - s.at });
  }
  return gaps;
}

/** Options of the stage-latency bench. */
export interface StageLatencyOptions {
  repeats: number;
  shuffles?: number;
  /** How long each task holds its slot (ms); default 1000. */
  taskMs?: number;
  hostEnv?: Record<string, string>;
}

/** Run the shuffle chain `repeats` times on 2 executors × 2 slots and report the gaps. */
export async function benchStageLatency(options: StageLatencyOptions): Promise<BenchReport> {
  const shuffles = options.shuffles ?? 6;
  const taskMs = options.taskMs ?? 1000;
  const env = hostEnvWith(options.hostEnv);
  const fabric = await startBenchFabric({ executors: 2, slots: 2, hostEnv: env });
  const events = new EventRecorder();
  let driver: Driver | undefined;
  try {
    driver = await Driver.connect({
      connectionString: fabric.connectionString,
      taskQueue: fabric.local.queue,
      totalSlots: fabric.local.totalSlots,
      listeners: [events],
      log: () => undefined,
    });
    const expected = 2000;
    for (let i = 0; i < options.repeats; i++) {
      const sum = await driver.run(JOB, { shuffles, partitions: 4, records: expected, taskMs });
      if (sum !== expected) throw new Error(`stage chain returned ${String(sum)}, expected ${expected}`);
    }
  } finally {
    await driver?.close();
    await fabric.stop();
  }
  const gaps = stageGaps(events);
  const q = (f: (g: StageGap) => number, p: number) => quantile(gaps.map(f), p);
  const p50 = q((g) => g.totalMs, 0.5);
  return {
    title: `stage latency: ${options.repeats} runs of a ${shuffles + 1}-stage job, 4 tasks of ${taskMs} ms per stage, 2 executors × 2 slots`,
    rows: [
      { metric: 'stage boundaries measured', value: String(gaps.length) },
      { metric: 'stage latency p50', value: `${p50} ms`, note: `${verdict(p50 <= 200)} (≤ 200 ms)` },
      { metric: 'stage latency p99', value: `${q((g) => g.totalMs, 0.99)} ms` },
      {
        metric: 'driver part p50 / p99',
        value: `${q((g) => g.driverMs, 0.5)} / ${q((g) => g.driverMs, 0.99)} ms`,
        note: 'last task-end → next stage submitted (event poll, map-output table, descriptor)',
      },
      {
        metric: 'pick-up part p50 / p99',
        value: `${q((g) => g.pickupMs, 0.5)} / ${q((g) => g.pickupMs, 0.99)} ms`,
        note: 'stage submitted → first task started (send, executor poll back-off)',
      },
    ],
    notes: [`executor host environment: ${JSON.stringify(env)}`],
  };
}
