/**
 * ctx.csv through the in-memory runner (each partition read as one whole file), against
 * plain-JS references: quoting, delimiters, headers, types, and bad rows in both modes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JobContext } from '../../engine/dataset/context.js';
import { defineJob } from '../../engine/dataset/job.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { runAction } from '../engine/run-helpers.js';

const collect = (files: string[], build: (ctx: JobContext) => ReturnType<JobContext['csv']>) =>
  runAction((ctx) => build(ctx).collect(), { files: { 'in.csv': files } });

/** A plain-JS CSV writer: quote a field when it holds the delimiter, a quote, or edge spaces. */
function writeField(field: string, delimiter: string): string {
  return field.includes(delimiter) || field.includes('"') || field.includes('\r')
    ? `"${field.replace(/"/g, '""')}"`
    : field;
}

describe('ctx.csv', () => {
  it('reads a header and rows into objects: quotes, escaped quotes, delimiters in quotes, empty fields', async () => {
    const text = 'id,name,note\n1,"Smith, Ann","she said ""hi"""\n2,,\n3,"",x\n';
    expect(await collect([text], (ctx) => ctx.csv('in.csv', { header: true }))).toEqual([
      { id: '1', name: 'Smith, Ann', note: 'she said "hi"' },
      { id: '2', name: '', note: '' },
      { id: '3', name: '', note: 'x' },
    ]);
  });

  it('handles CRLF line ends, a BOM, empty lines and a missing final newline', async () => {
    const text = '\ufeffa,b\r\n1,2\r\n\r\n3,4';
    expect(await collect([text], (ctx) => ctx.csv('in.csv', { header: true }))).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
  });

  it('without a header gives string arrays, or objects when columns are named', async () => {
    const text = 'x,1\ny,2\n';
    expect(await collect([text], (ctx) => ctx.csv('in.csv'))).toEqual([
      ['x', '1'],
      ['y', '2'],
    ]);
    expect(await collect([text], (ctx) => ctx.csv('in.csv', { columns: ['k', 'v'] }))).toEqual([
      { k: 'x', v: '1' },
      { k: 'y', v: '2' },
    ]);
  });

  it('columns given with a header rename the columns; the header line is still dropped', async () => {
    const text = 'a,b\n1,2\n';
    expect(await collect([text], (ctx) => ctx.csv('in.csv', { header: true, columns: ['x', 'y'] }))).toEqual([
      { x: '1', y: '2' },
    ]);
  });

  it('each file (partition here) drops its own header', async () => {
    const files = ['a,b\n1,2\n', 'a,b\n3,4\n', 'a,b\n'];
    expect(await collect(files, (ctx) => ctx.csv('in.csv', { header: true }))).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
  });

  it('converts typed columns; empty typed values are null', async () => {
    const text = 'n,ok,s\n1.5,true,007\n-2e3,FALSE,x\n,,\n';
    const types = { n: 'number', ok: 'boolean', s: 'string' } as const;
    expect(await collect([text], (ctx) => ctx.csv('in.csv', { header: true, types }))).toEqual([
      { n: 1.5, ok: true, s: '007' },
      { n: -2000, ok: false, s: 'x' },
      { n: null, ok: null, s: '' },
    ]);
  });

  it("infers each value's type with types: 'infer', for objects and arrays", async () => {
    const text = 'a,b,c,d\n12,true,hello,\n';
    expect(await collect([text], (ctx) => ctx.csv('in.csv', { header: true, types: 'infer' }))).toEqual([
      { a: 12, b: true, c: 'hello', d: null },
    ]);
    expect(await collect(['1,x\n'], (ctx) => ctx.csv('in.csv', { types: 'infer' }))).toEqual([[1, 'x']]);
    expect(await collect(['1,2\n'], (ctx) => ctx.csv('in.csv', { types: { 1: 'number' } }))).toEqual([
      ['1', 2],
    ]);
  });

  it('uses another delimiter', async () => {
    expect(
      await collect(['a;b\n"x;y";2\n'], (ctx) => ctx.csv('in.csv', { header: true, delimiter: ';' })),
    ).toEqual([{ a: 'x;y', b: '2' }]);
    expect(
      await collect(['a\tb\n1\t2\n'], (ctx) => ctx.csv('in.csv', { header: true, delimiter: '\t' })),
    ).toEqual([{ a: '1', b: '2' }]);
  });

  it('names empty and repeated header columns as Spark does, and a __proto__ column stays a column', async () => {
    const rows = (await collect(['a,,a,__proto__\n1,2,3,4\n'], (ctx) =>
      ctx.csv('in.csv', { header: true }),
    )) as [Record<string, unknown>];
    expect(Object.keys(rows[0])).toEqual(['a0', '_c1', 'a2', '__proto__']);
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
  });

  it('round-trips any table written by a plain-JS CSV writer', async () => {
    const field = fc.string({
      unit: fc.constantFrom('a', 'é', '😀', ',', '"', ' ', ';', '\r'),
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 4 })
          .chain((width) =>
            fc.array(fc.array(field, { minLength: width, maxLength: width }), { maxLength: 12 }),
          ),
        fc.constantFrom(',', ';'),
        fc.integer({ min: 1, max: 3 }),
        async (table, delimiter, partitions) => {
          // A row of one empty field is an empty line, which CSV cannot tell from no row.
          const rows = table.filter((r) => !(r.length === 1 && r[0] === ''));
          const width = table[0]?.length ?? 1;
          const columns = Array.from({ length: width }, (_, i) => `c${i}`);
          const files = Array.from({ length: partitions }, (_, p) =>
            [columns, ...rows.filter((_, i) => i % partitions === p)]
              .map((r) => r.map((f) => writeField(f, delimiter)).join(delimiter))
              .join('\r\n'),
          );
          const got = await collect(files, (ctx) => ctx.csv('in.csv', { header: true, delimiter }));
          const expected = Array.from({ length: partitions }, (_, p) =>
            rows.filter((_, i) => i % partitions === p),
          )
            .flat()
            .map((r) => Object.fromEntries(r.map((f, i) => [`c${i}`, f])));
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('ctx.csv with multiLine', () => {
  it('reads quoted fields containing line breaks, empty lines included', async () => {
    const text = 'id,note\r\n1,"two\r\nlines"\r\n2,"with\n\nan empty line"\n3,plain\n';
    expect(await collect([text], (ctx) => ctx.csv('in.csv', { header: true, multiLine: true }))).toEqual([
      { id: '1', note: 'two\nlines' },
      { id: '2', note: 'with\n\nan empty line' },
      { id: '3', note: 'plain' },
    ]);
  });

  it('a quote never closed before the end of the file is a bad record at the line it opened', async () => {
    const text = 'a,b\n1,2\n3,"open\n4,5\n';
    await expect(
      collect([text], (ctx) => ctx.csv('in.csv', { header: true, multiLine: true })),
    ).rejects.toThrow(/line 3 .*not closed before the end of the file/);
    const job = defineJob((ctx) =>
      ctx.csv('in.csv', { header: true, multiLine: true, badRecords: 'skip' }).collect(),
    );
    const run = await runJobInMemory(job, undefined, { files: { 'in.csv': [text] } });
    expect(run.results).toEqual([{ a: '1', b: '2' }]);
    expect(run.accumulators).toEqual({ 'badRecords:in.csv': 1 });
  });

  it('round-trips any table whose fields hold line breaks', async () => {
    const field = fc.string({ unit: fc.constantFrom('a', '\n', ',', '"', 'é'), maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(field, field), { maxLength: 10 }), async (rows) => {
        const text = ['x,y', ...rows.map((r) => r.map((f) => `"${f.replace(/"/g, '""')}"`).join(','))].join(
          '\n',
        );
        const got = await collect([text], (ctx) => ctx.csv('in.csv', { header: true, multiLine: true }));
        expect(got).toEqual(rows.map(([x, y]) => ({ x, y })));
      }),
      { numRuns: 60 },
    );
  });
});

describe('bad CSV rows', () => {
  const text = 'id,n\n1,10\n2,ten\n3\n4,"unclosed\n5,50\n';
  const types = { n: 'number' } as const;

  it('fail the task by default, naming the file, the byte offset, the line and the reason', async () => {
    await expect(collect([text], (ctx) => ctx.csv('in.csv', { header: true, types }))).rejects.toMatchObject({
      code: 'BAD_INPUT_RECORD',
      message: expect.stringContaining(
        `csv(in.csv): bad record in in.csv at byte ${text.indexOf('2,ten')}, line 3 (partition 0): column n: "ten" is not a number`,
      ),
      position: { file: 'in.csv', byteOffset: text.indexOf('2,ten'), line: 3 },
    });
    await expect(collect(['a,b\n1\n'], (ctx) => ctx.csv('in.csv', { header: true }))).rejects.toThrow(
      /at byte 4, line 2 .*expected 2 fields \(a, b\), found 1/,
    );
  });

  it('a quoted field running past its line is a clear error, not a wrong row', async () => {
    await expect(
      collect(['a,b\n1,"x\ny",2\n'], (ctx) => ctx.csv('in.csv', { header: true })),
    ).rejects.toThrow(/line 2 .*quoted field is not closed on its line.*multiLine/);
  });

  it("are dropped and counted in the badRecords accumulator with badRecords: 'skip'", async () => {
    const job = defineJob((ctx) => ctx.csv('in.csv', { header: true, types, badRecords: 'skip' }).collect());
    const run = await runJobInMemory(job, undefined, { files: { 'in.csv': [text, text] } });
    expect(run.results).toEqual([
      { id: '1', n: 10 },
      { id: '5', n: 50 },
      { id: '1', n: 10 },
      { id: '5', n: 50 },
    ]);
    expect(run.accumulators).toEqual({ 'badRecords:in.csv': 6 });
  });

  it('invalid options are refused when the job is built', async () => {
    const build = (options: object) => collect(['a\n'], (ctx) => ctx.csv('in.csv', options as never));
    await expect(build({ types: { a: 'date' } })).rejects.toThrow(/types\.a must be/);
    await expect(build({ delimiter: '"' })).rejects.toThrow(/delimiter/);
    await expect(build({ columns: ['a', 'a'] })).rejects.toThrow(/duplicate/);
    await expect(build({ badRecords: 'ignore' })).rejects.toThrow(/badRecords must be/);
    await expect(build({ types: { name: 'number' } })).rejects.toThrow(/column indices/);
    await expect(
      collect(['a\n1\n'], (ctx) => ctx.csv('in.csv', { header: true, types: { b: 'number' } })),
    ).rejects.toThrow(/types names column b/);
  });
});
