/**
 * Formats over real byte-range splits in Azurite, read the way an executor reads them
 * (readPartitionSplits → TaskIO.readSource → runTask): a CSV header reaches every split,
 * files without a final newline do not run together, and errors name the split.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InputSplit, resolveSourceInput } from '../../driver/input-sources.js';
import { type ActionRef, mergeActionResults } from '../../engine/actions.js';
import { buildJobGraph } from '../../engine/graph.js';
import { defineJob, type JobDefinition } from '../../engine/job.js';
import { lineBatches } from '../../engine/record-formats.js';
import { isSamplingRequest, planJob } from '../../engine/stages.js';
import type { TaskIO } from '../../engine/task-io.js';
import { runTask } from '../../engine/task-runtime.js';
import { InMemorySpillStore } from '../../engine/testing/in-memory-spill.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { readPartitionSplits } from '../../storage/split-reader.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { uniqueName } from './arbitraries.js';

const CONTAINER = `formats-${process.pid}`;
let blobs: BlobStore;

beforeAll(async () => {
  blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
  await blobs.ensureContainers([CONTAINER]);
});

afterAll(async () => {
  await blobs.deletePrefix(CONTAINER, '');
});

/**
 * Run a single-stage job (no shuffle) as the driver and executors would: resolve every file
 * source into splits, then one runTask per partition with a TaskIO reading the splits.
 */
async function runOverSplits<R>(def: JobDefinition<undefined>, splitBytes: number) {
  const graph = buildJobGraph(def, undefined, { defaultParallelism: 2 });
  const inputs = new Map<number, InputSplit[][]>();
  for (const source of graph.sources())
    inputs.set(source.nodeId, await resolveSourceInput(source, { blobs, splitBytes }));
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

  it('a bad JSON line names the file, the split and the line within it; skipped ones are counted', async () => {
    const name = uniqueName('events');
    const text = `${Array.from({ length: 20 }, (_, i) => JSON.stringify({ i })).join('\n')}\n{broken\n{"i":20}\n`;
    await blobs.put(CONTAINER, `${name}.jsonl`, text);
    const uri = `az://${CONTAINER}/${name}.jsonl`;
    const brokenAt = text.indexOf('{broken');
    const failing = defineJob((ctx) => ctx.jsonLines(uri, { minPartitions: 1 }).count());
    // Splits of 100 bytes: the broken line starts in the split at byte 100 * floor(brokenAt / 100).
    const splitStart = Math.floor(brokenAt / 100) * 100;
    const firstRecord = splitStart === 0 ? 0 : text.indexOf('\n', splitStart - 1) + 1;
    const lineInSplit = text.slice(firstRecord, brokenAt).split('\n').length;
    await expect(runOverSplits(failing, 100)).rejects.toThrow(
      new RegExp(`bad record in ${uri} \\(split at byte ${splitStart}\\), line ${lineInSplit} of the split`),
    );
    const skipping = defineJob((ctx) => ctx.jsonLines(uri, { badRecords: 'skip', minPartitions: 1 }).count());
    const { result, accumulators } = await runOverSplits(skipping, 100);
    expect(result).toBe(21);
    expect(accumulators).toEqual({ [`badRecords:${uri}`]: 1 });
  });
});
