/**
 * Formats over real byte-range splits in Azurite, read the way an executor reads them
 * (readPartitionSplits → TaskIO.readSource → runTask): a CSV header reaches every split,
 * files without a final newline do not run together, and errors name the split.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DATA_CONTAINER } from '../../contract/names.js';
import { type InputSplit, resolveSourceInput } from '../../driver/data/input-sources.js';
import { type ActionRef, mergeActionResults } from '../../engine/dataset/actions.js';
import { defineJob, type JobDefinition } from '../../engine/dataset/job.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { isSamplingRequest, planJob } from '../../engine/plan/stages.js';
import { type BadRecordError, lineBatches } from '../../engine/records/record-formats.js';
import type { TaskIO } from '../../engine/task/task-io.js';
import { runTask } from '../../engine/task/task-runtime.js';
import { InMemorySpillStore } from '../../engine/testing/in-memory-spill.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { readPartitionSplits } from '../../storage/split-reader.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { uniqueName } from './arbitraries.js';

const CONTAINER = `formats-${process.pid}`;
/** Local inputs are uploaded under this scope of the data container. */
const SCOPE = `formats-test-${process.pid}/run-0`;
let blobs: BlobStore;
let dir: string;
let nodes = 0;

beforeAll(async () => {
  blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
  await blobs.ensureContainers([CONTAINER, DATA_CONTAINER]);
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-formats-'));
});

afterAll(async () => {
  await blobs.deletePrefix(CONTAINER, '');
  await blobs.deletePrefix(DATA_CONTAINER, `apps/formats-test-${process.pid}/`);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Run a single-stage job (no shuffle) as the driver and executors would: resolve every file
 * source into splits, then one runTask per partition with a TaskIO reading the splits.
 */
async function runOverSplits<R>(def: JobDefinition<undefined>, splitBytes: number) {
  const graph = buildJobGraph(def, undefined, { defaultParallelism: 2 });
  const inputs = new Map<number, InputSplit[][]>();
  for (const source of graph.sources())
    inputs.set(
      source.nodeId,
      await resolveSourceInput(source, { blobs, splitBytes, upload: { scope: SCOPE, nodeId: nodes++ } }),
    );
  const sourcePartitions = new Map([...inputs].map(([id, parts]) => [id, parts.length]));
  const ref: ActionRef = { name: graph.actionNames[0]! };
  const plan = planJob(graph, ref, { sourcePartitions });
  if (isSamplingRequest(plan) || plan.stages.length !== 1)
    throw new Error('test runner: single-stage jobs only');
  const stage = plan.stages[0]!;
  const io: TaskIO = {
    readSource: (source, partition) => readPartitionSplits(blobs, inputs.get(source.nodeId)![partition]!),
    readShuffle: () => {
      throw new Error('no shuffle here');
    },
    readCached: () => undefined,
    broadcastValue: () => undefined,
    openSavedPart: () => {
      throw new Error('no saves here');
    },
    spill: new InMemorySpillStore(),
    memoryBudgetBytes: 1 << 26,
  };
  const partials: unknown[] = [];
  for (let p = 0; p < stage.numPartitions; p++) {
    const executorGraph = buildJobGraph(def, undefined, { defaultParallelism: 2 });
    const out = await runTask(executorGraph, stage, p, io, { fingerprint: plan.fingerprint });
    graph.mergeAccumulatorUpdates(out.accumulatorUpdates);
    if (out.kind === 'result') partials.push(out.result);
  }
  return {
    result: mergeActionResults(graph.resolveAction(ref), partials) as R,
    accumulators: graph.accumulatorValues(),
    partitions: stage.numPartitions,
  };
}

describe('formats over byte-range splits', () => {
  it('a CSV header reaches every split of every file, for any split size', async () => {
    const name = uniqueName('people');
    const rows = Array.from({ length: 30 }, (_, i) => ({
      id: i,
      name: `p ${i}, "the ${i}th"`,
      ok: i % 3 === 0,
    }));
    const csvText = (part: typeof rows) =>
      `\ufeffid,name,ok\r\n${part.map((r) => `${r.id},"${r.name.replace(/"/g, '""')}",${r.ok}`).join('\r\n')}`;
    await blobs.put(CONTAINER, `${name}/a.csv`, csvText(rows.slice(0, 17)));
    await blobs.put(CONTAINER, `${name}/b.csv`, csvText(rows.slice(17)));
    const job = defineJob((ctx) =>
      ctx
        .csv(`az://${CONTAINER}/${name}`, { header: true, types: { id: 'number', ok: 'boolean' } })
        .collect(),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 700 }), async (splitBytes) => {
        const { result } = await runOverSplits(job, splitBytes);
        expect(result).toEqual(rows);
      }),
      { numRuns: 12 },
    );
  });

  it('a CSV row its schema rejects in a later split of a blob names the byte offset and the column; skipped ones are counted', async () => {
    const name = uniqueName('typed-sales');
    const rows = Array.from(
      { length: 40 },
      (_, i) => `s${i % 4},${i === 31 ? 'n/a' : i === 33 ? '' : `${i}.25`}`,
    );
    const text = `store,amount\n${rows.join('\n')}\n`;
    await blobs.put(CONTAINER, `${name}.csv`, text);
    const uri = `az://${CONTAINER}/${name}.csv`;
    const Sale = z.object({ store: z.string(), amount: z.number() });
    const options = { header: true, types: { amount: 'number' }, schema: Sale, minPartitions: 1 } as const;
    const failing = defineJob((ctx) => ctx.csv(uri, options).count());
    const badAt = Buffer.byteLength(text.slice(0, text.indexOf('s3,n/a')));
    expect(badAt).toBeGreaterThan(100);
    await expect(runOverSplits(failing, 100)).rejects.toMatchObject({
      code: 'BAD_INPUT_RECORD',
      message: expect.stringContaining(`bad record in ${uri} at byte ${badAt} (partition `),
      position: { file: uri, byteOffset: badAt, line: undefined },
    });
    await expect(runOverSplits(failing, 100)).rejects.toThrow(/column amount: "n\/a" is not a number/);
    // Reference: the sum of the rows whose amount is a number ('' is null, which the schema refuses).
    const expected = rows.map((r) => r.split(',')[1]!).filter((a) => a !== '' && !Number.isNaN(Number(a)));
    const summing = defineJob((ctx) =>
      ctx
        .csv(uri, { ...options, badRecords: 'skip' })
        .map((s) => s.amount)
        .reduce((a, b) => a + b),
    );
    const { result, accumulators, partitions } = await runOverSplits(summing, 100);
    expect(partitions).toBeGreaterThan(1);
    expect(result).toBeCloseTo(
      expected.reduce((a, b) => a + Number(b), 0),
      9,
    );
    expect(accumulators).toEqual({ [`badRecords:${uri}`]: 2 });
  });

  it('a CSV file beginning with empty lines takes its first non-empty line as the header, on the driver and the executors', async () => {
    const name = uniqueName('blank-start');
    const rows = Array.from({ length: 12 }, (_, i) => ({ id: String(i), word: `w${i % 5}` }));
    const prefix = '\ufeff\r\n\n';
    const text = `${prefix}id,word\n${rows.map((r) => `${r.id},${r.word}`).join('\n')}\n`;
    await blobs.put(CONTAINER, `${name}.csv`, text);
    const job = defineJob((ctx) => ctx.csv(`az://${CONTAINER}/${name}.csv`, { header: true }).collect());
    // Any split size that puts the header's first byte in the file's first split.
    const headerStart = Buffer.byteLength(prefix);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: headerStart + 1, max: 200 }), async (splitBytes) => {
        const { result } = await runOverSplits(job, splitBytes);
        expect(result).toEqual(rows);
      }),
      { numRuns: 10 },
    );
  });

  it('a CSV header after a first split of only empty lines is a CSV_BAD_HEADER naming the file; an all-empty file is no rows', async () => {
    const name = uniqueName('late-header');
    const uri = `az://${CONTAINER}/${name}.csv`;
    await blobs.put(CONTAINER, `${name}.csv`, '\n\n\n\nid,word\n1,a\n');
    const job = defineJob((ctx) => ctx.csv(uri, { header: true }).collect());
    await expect(runOverSplits(job, 2)).rejects.toMatchObject({
      code: 'CSV_BAD_HEADER',
      message: expect.stringContaining(`csv header of ${uri} is not in its first split`),
    });
    const blank = uniqueName('all-blank');
    await blobs.put(CONTAINER, `${blank}.csv`, '\n\r\n\n\n\n');
    const blankJob = defineJob((ctx) =>
      ctx.csv(`az://${CONTAINER}/${blank}.csv`, { header: true }).collect(),
    );
    const { result, partitions } = await runOverSplits(blankJob, 2);
    expect(partitions).toBeGreaterThan(1);
    expect(result).toEqual([]);
  });

  it('a bad record in a later split of a local file names its byte offset and its line, counted by the driver', async () => {
    const name = uniqueName('local-events');
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ i, s: 'ü'.repeat(i % 4) }));
    lines.splice(29, 0, '{"not": json}');
    const text = `${lines.join('\r\n')}\n`;
    const file = path.join(dir, `${name}.jsonl`);
    await writeFile(file, text);
    const badAt = text.indexOf('{"not": json}');
    const reference = { byteOffset: Buffer.byteLength(text.slice(0, badAt)), line: 30 };
    const job = defineJob((ctx) => ctx.jsonLines(file, { minPartitions: 1 }).count());
    const error = await runOverSplits(job, 150).then(
      () => undefined,
      (e: unknown) => e as BadRecordError,
    );
    expect(reference.byteOffset).toBeGreaterThan(150 * 1.1);
    expect(error?.message).toContain(
      `bad record in ${file} at byte ${reference.byteOffset}, line ${reference.line} (partition `,
    );
    expect(error?.position).toEqual({ file, ...reference });
    expect(error?.context.partition).toBeGreaterThan(0);
  });

  it('the last line of a file without a newline does not run into the next file of the partition', async () => {
    const name = uniqueName('text');
    await blobs.put(CONTAINER, `${name}/1.txt`, 'a\nb');
    await blobs.put(CONTAINER, `${name}/2.txt`, 'c\n');
    const splits = await resolveSourceInput(
      { nodeId: 0, kind: 'textFile', uri: `az://${CONTAINER}/${name}`, minPartitions: 1 },
      { blobs },
    );
    // Both files in one partition, as a descriptor may group them.
    const lines: string[] = [];
    for await (const b of lineBatches(readPartitionSplits(blobs, splits.flat()), 'x', () => {}))
      lines.push(...b.lines);
    expect(lines).toEqual(['a', 'b', 'c']);
  });

  it('a bad JSON line in a later split of a blob names the file and its byte offset in the file; skipped ones are counted', async () => {
    const name = uniqueName('events');
    const text = `${Array.from({ length: 20 }, (_, i) => JSON.stringify({ i, s: 'é' })).join('\r\n')}\r\n{broken\n{"i":20}\n`;
    await blobs.put(CONTAINER, `${name}.jsonl`, text);
    const uri = `az://${CONTAINER}/${name}.jsonl`;
    // Reference: the offset of the broken line in the file's bytes.
    const brokenAt = Buffer.byteLength(text.slice(0, text.indexOf('{broken')));
    const failing = defineJob((ctx) => ctx.jsonLines(uri, { minPartitions: 1 }).count());
    // Splits of 200 bytes: the broken line starts in the second split (or later), not at the file's start.
    expect(brokenAt).toBeGreaterThan(200);
    const error = await runOverSplits(failing, 200).then(
      () => undefined,
      (e: unknown) => e as BadRecordError,
    );
    expect(error?.message).toContain(`bad record in ${uri} at byte ${brokenAt} (partition `);
    // The line number of a blob split that does not begin the file is not known to its task.
    expect(error?.position).toEqual({ file: uri, byteOffset: brokenAt, line: undefined });
    expect(error?.context.partition).toBeGreaterThan(0);
    const skipping = defineJob((ctx) => ctx.jsonLines(uri, { badRecords: 'skip', minPartitions: 1 }).count());
    const { result, accumulators } = await runOverSplits(skipping, 100);
    expect(result).toBe(21);
    expect(accumulators).toEqual({ [`badRecords:${uri}`]: 1 });
  });
});
