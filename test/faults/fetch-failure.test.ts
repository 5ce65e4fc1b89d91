/**
 * A map output that vanishes between two jobs on real executors (Spark's FetchFailed): the reduce
 * task that finds its blob gone reports the shuffle, the driver runs the map stage again and then
 * the reduce stage, and the answer is still the plain-JS one.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../contract/names.js';
import type { RunEvent } from '../../driver/observe/run-events.js';
import { RunSummaryBuilder } from '../../driver/observe/run-summary.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;

beforeAll(async () => {
  e2e = await startE2E({ label: 'fetch-failure', executors: 2, slots: 2 });
});

afterAll(async () => {
  await e2e?.close();
});

describe('fetch failures on real executors', () => {
  it('map outputs deleted after the first job are recomputed for the second, and its answer is right', async () => {
    const blobs = new BlobStore(connectStorage({ connectionString: e2e.fabric.connectionString }));
    const deleted: Promise<string[]>[] = [];
    // When the first job ends, delete every map output of the run (the second job reuses them).
    e2e.driver.addListener({
      onEvent(event: RunEvent) {
        if (event.type !== 'job-end' || event.jobId !== 0 || event.status !== 'succeeded') return;
        deleted.push(
          (async () => {
            const names = (await blobs.list(DATA_CONTAINER, `apps/${event.appId}/`))
              .map((b) => b.name)
              .filter((name) => /\/shuffle\/\d+\/map-/.test(name));
            await Promise.all(names.map((name) => blobs.delete(DATA_CONTAINER, name)));
            return names;
          })(),
        );
      },
    });
    const n = 200;
    const result = (await e2e.driver.run(path.join(JOBS, 'shared-shuffle.ts'), { n })) as {
      a: number;
      b: [number, number][];
    };

    const expected = new Map<number, number>();
    for (let i = 0; i < n; i++) expected.set(i % 7, (expected.get(i % 7) ?? 0) + i);
    expect(result.a).toBe(expected.size);
    expect(new Map(result.b)).toEqual(expected);

    expect((await deleted[0])?.length).toBeGreaterThan(0);
    const events = e2e.events.events.filter((e) => e.type === 'notice');
    expect(events.map((e) => (e.type === 'notice' ? e.message : ''))).toContainEqual(
      expect.stringContaining('could not read a map output of shuffle'),
    );
    // The second job skipped its map stage at first, then ran it again under a new stage id.
    const secondJob = e2e.events.of('job-start').find((e) => e.jobId === 1)!;
    expect(secondJob.skippedStageIds.length).toBe(1);
    const submitted = e2e.events.of('stage-submitted').filter((e) => e.jobId === 1);
    expect(submitted.map((e) => e.kind)).toEqual(['result', 'shuffle-map', 'result']);
    expect(
      e2e.events
        .of('job-end')
        .filter((e) => e.jobId === 1)
        .map((e) => e.status),
    ).toEqual(['succeeded']);
    // The run summary lists the resubmitted stages under their job.
    const summary = new RunSummaryBuilder();
    for (const event of e2e.events.events) summary.onEvent(event);
    const job = summary.summary().jobs.find((j) => j.jobId === 1)!;
    expect(job.stageIds).toEqual(expect.arrayContaining(submitted.map((e) => e.stageId)));
  });
});
