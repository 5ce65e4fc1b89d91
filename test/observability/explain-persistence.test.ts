/**
 * `stratus explain` of persistence and whole-file sources, without running a task: a
 * whole-file source's partitions as the driver packs them, a dataset persisted on executors
 * (its lineage kept), a checkpoint written by one job and read by the next with no stage
 * above it, and an `unpersist` entry that runs no job and releases its node for the jobs after.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainModule, formatExplanation } from '../../driver/observe/explain.js';

const JOBS = path.resolve(import.meta.dirname, 'fixtures/jobs');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-explain-whole-'));
  for (const [name, size] of [
    ['a.txt', 10],
    ['b.txt', 10],
    ['c.txt', 10],
    ['d.txt', 10],
  ] as const) {
    await writeFile(path.join(dir, name), 'x'.repeat(size));
  }
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('stratus explain: persistence and whole files', () => {
  it('shows the packed files, the executor persistence, the checkpoint and the unpersist entry', async () => {
    const e = await explainModule(
      path.join(JOBS, 'persisted-files.ts'),
      { input: path.join(dir, '*.txt') },
      { slots: 2 },
    );
    expect(e.sources).toEqual([
      { nodeId: 0, uri: path.join(dir, '*.txt'), files: 4, bytes: 40, partitions: 2 },
    ]);
    expect(e.jobs.map((j) => j.actionName)).toEqual(['files', 'totals', 'again', 'last']);
    expect(e.unpersists).toEqual([{ actionName: 'free', nodeId: 1, jobsBefore: 3 }]);
    const [files, totals, again, last] = e.jobs;
    expect(files!.stages[0]!.localPersists).toEqual([{ nodeId: 1, level: 'memory' }]);
    // The checkpoint is written by the job that first computes it…
    expect(totals!.stages.at(-1)!.cacheWrites).toEqual([2]);
    expect(totals!.stages.at(-1)!.checkpoints).toEqual([2]);
    // …and read by the next with no stage above it.
    expect(again!.stages).toHaveLength(1);
    expect(again!.stages[0]!).toMatchObject({ parentStageIds: [], cacheReads: [2], checkpoints: [2] });
    // After the unpersist the level no longer applies.
    expect(last!.stages[0]!.localPersists).toEqual([]);
    const text = formatExplanation(e);
    expect(text).toContain('from 4 files');
    expect(text).toContain('persists node 1 on executors (memory; recomputed where missing)');
    expect(text).toContain('checkpoints node 2 (later jobs read it; lineage truncated)');
    expect(text).toContain('reads checkpointed node 2 (lineage truncated)');
    expect(text).toContain('Unpersist "free": node 1 is released here (no job); later jobs recompute it');
    expect(text.indexOf('Unpersist')).toBeGreaterThan(text.indexOf('Job 2:'));
    expect(text.indexOf('Unpersist')).toBeLessThan(text.indexOf('Job 3:'));
  });
});
