/** ctx.jsonLines through the in-memory runner, against JSON.parse of each line as the reference. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { runAction } from '../engine/run-helpers.js';

const jsonValueArb = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe('ctx.jsonLines', () => {
  it('reads any JSON values written one per line, across CRLF, blank lines and partitions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(fc.tuple(jsonValueArb, fc.constantFrom('\n', '\r\n', '\n  \t\n')), { maxLength: 6 }),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        async (partitions) => {
          const files = partitions.map((p) => p.map(([v, end]) => JSON.stringify(v) + end).join(''));
          const got = await runAction((ctx) => ctx.jsonLines('in.jsonl').collect(), {
            files: { 'in.jsonl': files },
          });
          expect(got).toEqual(partitions.flat().map(([v]) => v));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('drops a BOM at the start of a file and keeps unicode intact', async () => {
    const files = { 'in.jsonl': ['\ufeff{"name":"Zoë 😀"}\n"日本"'] };
    expect(await runAction((ctx) => ctx.jsonLines('in.jsonl').collect(), { files })).toEqual([
      { name: 'Zoë 😀' },
      '日本',
    ]);
  });

  it('fails on a line that is not JSON, naming the file, the byte offset, the line and the reason', async () => {
    const text = '{"a":1}\n\n{"é":\n';
    const files = { 'in.jsonl': [text] };
    const offset = Buffer.byteLength(text.slice(0, text.indexOf('{"é":')));
    await expect(runAction((ctx) => ctx.jsonLines('in.jsonl').count(), { files })).rejects.toMatchObject({
      code: 'BAD_INPUT_RECORD',
      message: expect.stringContaining(
        `jsonLines(in.jsonl): bad record in in.jsonl at byte ${offset}, line 3 (partition 0): not JSON`,
      ),
    });
  });

  it("skips and counts bad lines with badRecords: 'skip'", async () => {
    const job = defineJob((ctx) => ({
      values: ctx.jsonLines('in.jsonl', { badRecords: 'skip' }).collect(),
      other: ctx.jsonLines('in.jsonl', { badRecords: 'skip' }).count(),
    }));
    const files = { 'in.jsonl': ['1\nnot json\n2\n', '{oops\n3\n'] };
    const run = await runJobInMemory(job, undefined, { files });
    expect(run.results).toEqual({ values: [1, 2, 3], other: 3 });
    // Two sources of one path get one accumulator each.
    expect(run.accumulators).toEqual({ 'badRecords:in.jsonl': 2, 'badRecords:in.jsonl (node 1)': 2 });
  });
});
