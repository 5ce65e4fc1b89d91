/**
 * Accumulators, bad-record counts among them, reach the event log (job-end), the run summary
 * and its text, for a job module and for each run of a driver script.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunEventSchema } from '../../driver/observe/run-events.js';
import { formatRunSummary, RunSummaryBuilder } from '../../driver/observe/run-summary.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import driverScript from './fixtures/jobs/csv-totals-driver.js';

const CSV_SUM = path.resolve(import.meta.dirname, '../e2e/jobs/csv-sum.ts');

let e2e: E2EFabric;
let dir: string;

beforeAll(async () => {
  e2e = await startE2E({ label: 'accumulators' });
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-accumulators-'));
});
afterAll(async () => {
  await e2e?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A CSV of `good` rows of amount 1 in Oslo and `bad` rows with too many fields. */
async function csv(name: string, good: number, bad: number): Promise<string> {
  const rows = ['city,amount', ...Array.from({ length: good }, () => 'Oslo,1')];
  for (let i = 0; i < bad; i++) rows.splice(1 + i * 3, 0, 'a,b,c,d');
  const file = path.join(dir, name);
  await writeFile(file, `${rows.join('\n')}\n`);
  return file;
}

describe('accumulators in the event log and the run summary', () => {
  it("a job module's bad-record count is in its jobs' job-end and in the summary", async () => {
    const input = await csv('one.csv', 20, 3);
    const summary = new RunSummaryBuilder();
    e2e.driver.addListener(summary);
    e2e.events.clear();
    expect(await e2e.driver.run(CSV_SUM, { input })).toEqual({ totals: [['Oslo', 20]] });
    const ends = e2e.events.of('job-end');
    expect(ends).toHaveLength(1); // a sort into one partition needs no sampling job
    for (const end of ends) {
      expect(RunEventSchema.parse(end)).toMatchObject({ accumulators: { [`badRecords:${input}`]: 3 } });
    }
    const s = summary.summary();
    expect(s.accumulators.at(-1)).toMatchObject({
      module: 'csv-sum.ts',
      values: { [`badRecords:${input}`]: 3 },
    });
    expect(formatRunSummary(s)).toContain(`bad records: 3 skipped in ${input}`);
  });

  it('a driver script reports each of its runs’ accumulators', async () => {
    const inputs = [await csv('a.csv', 5, 1), await csv('b.csv', 7, 2)];
    const summary = new RunSummaryBuilder();
    e2e.driver.addListener(summary);
    await driverScript.main(e2e.driver, { inputs });
    const runs = summary.summary().accumulators.slice(-2);
    expect(runs.map((r) => r.values)).toEqual([
      { [`badRecords:${inputs[0]}`]: 1 },
      { [`badRecords:${inputs[1]}`]: 2 },
    ]);
    expect(runs[1]!.run).toBe(runs[0]!.run! + 1);
    const text = formatRunSummary(summary.summary());
    expect(text).toMatch(
      new RegExp(`bad records \\(run ${runs[1]!.run}, csv-sum\\.ts\\): 2 skipped in .*b\\.csv`),
    );
  });
});
