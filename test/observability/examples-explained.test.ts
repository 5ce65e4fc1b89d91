/**
 * For each example, `stratus explain` (no tasks run) predicts the jobs, hidden jobs, stages
 * and partitions a real run then triggers, and the run summary reports the same slots.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainModule } from '../../driver/explain.js';
import { RunSummaryBuilder } from '../../driver/run-summary.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');

let e2e: E2EFabric;
const summary = new RunSummaryBuilder();

beforeAll(async () => {
  e2e = await startE2E({ label: 'explained', driver: { listeners: [summary] } });
});
afterAll(async () => {
  await e2e?.close();
});

describe('explain agrees with runs of the examples', () => {
  const examples: [string, Record<string, unknown>][] = [
    ['wordcount.ts', { input: path.join(EXAMPLES, 'data', '*.txt') }],
    ['join.ts', { orders: 300 }],
    ['sort.ts', { records: 2000, partitions: 4 }],
    ['orders.ts', { orders: 300 }],
    ['pagerank.ts', { pages: 30 }],
  ];
  for (const [file, params] of examples) {
    it(`${file}: the same jobs, stages and partitions`, async () => {
      const module = path.join(EXAMPLES, file);
      const explained = await explainModule(module, params, { slots: e2e.fabric.totalSlots });
      const before = summary.summary().jobs.length;
      await e2e.driver.run(module, params as never);
      const s = summary.summary();
      const ran = s.jobs.slice(before).map((j) => ({
        hidden: j.hidden,
        stages: j.stageIds.map((id) => {
          const st = s.stages.find((x) => x.stageId === id)!;
          return st.skipped ? 'skipped' : st.numTasks;
        }),
      }));
      expect(ran).toEqual(
        explained.jobs.map((j) => ({
          hidden: j.hidden,
          stages: j.stages.map((st) => (st.skipped ? 'skipped' : st.partitions)),
        })),
      );
      expect(s.plannedSlots).toBe(e2e.fabric.totalSlots);
      expect(explained.slots).toBe(e2e.fabric.totalSlots);
    });
  }
});
