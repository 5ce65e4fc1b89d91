/**
 * Whole-file sources: the packing rule (files never split, packed in order into at least
 * min(minPartitions, files) partitions), and wholeTextFiles / binaryFiles through the in-memory
 * runner against plain JS — empty files, multi-byte characters cut between chunks, any
 * minPartitions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { packWholeFiles } from '../../engine/plan/whole-file-partitions.js';
import { type InMemoryFile, runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { bag, partitionsArb } from './run-helpers.js';

const sizesArb = fc.array(fc.nat({ max: 200 }), { maxLength: 20 });

describe('packing whole files into partitions', () => {
  it('every file is in exactly one partition, in order, and no partition is empty', () => {
    fc.assert(
      fc.property(sizesArb, partitionsArb, fc.integer({ min: 1, max: 400 }), (sizes, min, maxBytes) => {
        const parts = packWholeFiles(sizes, min, maxBytes);
        expect(parts.flat()).toEqual(sizes.map((_, i) => i));
        for (const part of parts) expect(part.length).toBeGreaterThan(0);
      }),
    );
  });

  it('there are at least min(minPartitions, files) partitions, none above the byte goal but for a single large file', () => {
    fc.assert(
      fc.property(sizesArb, partitionsArb, fc.integer({ min: 1, max: 400 }), (sizes, min, maxBytes) => {
        const parts = packWholeFiles(sizes, min, maxBytes);
        expect(parts.length).toBeGreaterThanOrEqual(Math.min(min, sizes.length));
        for (const part of parts) {
          const bytes = part.reduce((n, i) => n + sizes[i]!, 0);
          if (part.length > 1) expect(bytes).toBeLessThanOrEqual(maxBytes);
        }
      }),
    );
  });

  it('small files are packed together rather than one partition each', () => {
    expect(packWholeFiles([10, 10, 10, 10], 2, 1000)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(packWholeFiles([10, 10, 100], 3, 1000)).toEqual([[0], [1], [2]]);
    expect(packWholeFiles([], 3)).toEqual([]);
  });
});

// A leading byte-order mark is dropped (tested below), so the reference leaves it out.
const textArb = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/^\uFEFF/, ''));
const filesArb = fc
  .array(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), textArb), { maxLength: 8 })
  .map((entries) => entries.map(([name, content], i) => ({ path: `/data/${i}-${name}.txt`, content })));

const wholeText = defineJob((ctx, p: { min: number }) => ctx.wholeTextFiles('/data/*.txt', p.min).collect());

describe('wholeTextFiles', () => {
  it("gives one [path, content] per file, in order, as plain JS's readFile would", async () => {
    await fc.assert(
      fc.asyncProperty(filesArb, partitionsArb, async (files, min) => {
        const run = await runJobInMemory(wholeText, { min }, { wholeFiles: { '/data/*.txt': files } });
        expect(run.results).toEqual(files.map((f) => [f.path, f.content]));
        const partitions = run.jobs[0]!.plan.stages[0]!.numPartitions;
        expect(partitions).toBe(
          packWholeFiles(
            files.map((f) => Buffer.byteLength(f.content)),
            min,
          ).length,
        );
      }),
      { numRuns: 40 },
    );
  });

  it('a file may be empty, and a byte-order mark at its start is dropped as textFile drops it', async () => {
    const files: InMemoryFile[] = [
      { path: '/d/a.txt', content: '' },
      { path: '/d/b.txt', content: '\uFEFFhé\nllo\n' },
    ];
    const run = await runJobInMemory(wholeText, { min: 1 }, { wholeFiles: { '/data/*.txt': files } });
    expect(run.results).toEqual([
      ['/d/a.txt', ''],
      ['/d/b.txt', 'hé\nllo\n'],
    ]);
  });

  it('files feed a shuffle like any records: word counts per file equal plain JS', async () => {
    const job = defineJob((ctx) =>
      ctx
        .wholeTextFiles('/data/*.txt', 3)
        .flatMap(([path, text]) =>
          text
            .split(/\s+/)
            .filter((w) => w !== '')
            .map((w) => [w, path] as [string, string]),
        )
        .groupByKey(2)
        .mapValues((paths) => new Set(paths).size)
        .collect(),
    );
    const files = [
      { path: '/d/1.txt', content: 'a b c a' },
      { path: '/d/2.txt', content: 'b c\nd' },
      { path: '/d/3.txt', content: 'a' },
    ];
    const run = await runJobInMemory(job, undefined, { wholeFiles: { '/data/*.txt': files } });
    expect(bag(run.results)).toEqual(
      bag([
        ['a', 2],
        ['b', 2],
        ['c', 2],
        ['d', 1],
      ]),
    );
  });
});

describe('binaryFiles', () => {
  const bytesFilesArb = fc
    .array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 })
    .map((contents) => contents.map((content, i) => ({ path: `az://c/bin/${i}.bin`, content })));

  it('gives one [path, bytes] per file, the bytes as stored in a plain Uint8Array', async () => {
    const job = defineJob((ctx, p: { min: number }) =>
      ctx
        .binaryFiles('az://c/bin/', p.min)
        .map(
          ([path, bytes]) => [path, bytes.constructor.name, Array.from(bytes)] as [string, string, number[]],
        )
        .collect(),
    );
    await fc.assert(
      fc.asyncProperty(bytesFilesArb, partitionsArb, async (files, min) => {
        const run = await runJobInMemory(job, { min }, { wholeFiles: { 'az://c/bin/': files } });
        expect(run.results).toEqual(files.map((f) => [f.path, 'Uint8Array', Array.from(f.content)]));
      }),
      { numRuns: 40 },
    );
  });
});
