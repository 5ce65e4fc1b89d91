/**
 * Wide operators, cache, accumulators, large results and committed output on real
 * executors, against plain-JS references; partition counts vary, empty partitions included.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { checkCachedJob, checkPairsAgainstReference } from '../helpers/job-references.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
let outDir: string;

beforeAll(async () => {
  e2e = await startE2E({ label: 'ops' });
  outDir = await mkdtemp(path.join(tmpdir(), 'stratus-e2e-out-'));
});

afterAll(async () => {
  await e2e?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('operators on executors', () => {
  it('reduceByKey, groupByKey, joins, distinct and sortByKey equal plain JS for any partitioning', async () => {
    await checkPairsAgainstReference(e2e.driver, { numRuns: 4, seed: 20261125 });
  });

  it('a cached dataset is computed once for two actions, and accumulators count each partition once', async () => {
    e2e.events.clear();
    const n = 500;
    await checkCachedJob(e2e.driver, n, 5);
    const jobs = e2e.events.of('job-start');
    expect(jobs).toHaveLength(2);
    // The second job reads the cached partitions: the shuffle-map stage above them is listed, as
    // Spark lists it, but skipped, and none of its tasks runs.
    const second = jobs[1]!;
    const above = (second.stages ?? []).filter((s) => s.skipReason === 'above-cached-dataset');
    expect(above.length).toBeGreaterThan(0);
    expect(second.skippedStageIds).toEqual(expect.arrayContaining(above.map((s) => s.stageId)));
    const ran = new Set(e2e.events.of('task-start').map((t) => t.stageId));
    for (const stage of above) expect(ran.has(stage.stageId)).toBe(false);
  });

  it('results too large to travel inline come back through blobs, complete and in order', async () => {
    const n = 3000;
    const result = await e2e.driver.run(path.join(JOBS, 'big-collect.ts'), { n });
    expect(result).toEqual(Array.from({ length: n }, (_, i) => `record-${i}-${'z'.repeat(20)}`));
  });

  it('save actions commit one part file per partition and _SUCCESS, and refuse an existing output', async () => {
    const text = path.join(outDir, 'text');
    const json = path.join(outDir, 'json');
    const n = 50;
    const result = await e2e.driver.run(path.join(JOBS, 'save.ts'), { n, text, json });
    expect(result).toEqual({
      text: { path: text, partitions: 4, records: n },
      json: { path: json, partitions: 4, records: n },
    });
    const files = (await readdir(text)).sort();
    expect(files).toEqual(['_SUCCESS', 'part-00000', 'part-00001', 'part-00002', 'part-00003']);
    let lines: string[] = [];
    for (const f of files.filter((x) => x.startsWith('part-'))) {
      lines = lines.concat((await readFile(path.join(text, f), 'utf8')).split('\n').filter((l) => l !== ''));
    }
    expect(lines).toEqual(Array.from({ length: n }, (_, i) => `${i}\t${i * i}`));
    const jsonLines = (await readFile(path.join(json, 'part-00003'), 'utf8')).trim().split('\n');
    expect(jsonLines.map((l) => JSON.parse(l))).toEqual(
      Array.from({ length: n }, (_, i) => ({ i, square: i * i })).slice(Math.floor((3 * n) / 4)),
    );

    await expect(e2e.driver.run(path.join(JOBS, 'save.ts'), { n, text, json })).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
    });
    const again = await e2e.driver.run(path.join(JOBS, 'save.ts'), { n: 8, text, json }, { overwrite: true });
    expect(again).toMatchObject({ text: { records: 8 } });
    expect((await readdir(text)).sort()).toContain('_SUCCESS');
  });
});
