/**
 * Typed sources through the in-memory runner, against plain-JS references: a CSV source's
 * column types and a zod schema convert and check every record, and a record that fails them
 * is a bad record under the source's badRecords policy, named by file, byte offset, line and
 * the column or field at fault. (The types themselves: test/engine/source-types.test.ts.)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { seededRandom } from '../../engine/records/rng.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import sales from '../../examples/sales.js';
import { runAction } from '../engine/run-helpers.js';

/** A sales CSV of `n` rows with cent amounts as decimals (57.99), and the per-store totals in cents. */
function salesCsv(n: number, seed: number): { text: string; centsByStore: Map<string, number> } {
  const random = seededRandom(seed);
  const rows = ['store,amount'];
  const centsByStore = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const store = ['Oslo', 'Lima', 'Pune'][Math.floor(random.next() * 3)]!;
    const cents = 100 + Math.floor(random.next() * 9900);
    rows.push(`${store},${(cents / 100).toFixed(2)}`);
    centsByStore.set(store, (centsByStore.get(store) ?? 0) + cents);
  }
  return { text: `${rows.join('\n')}\n`, centsByStore };
}

/** Totals in cents, rounded, sorted by store: exact comparison whatever the float sum order. */
const inCents = (totals: [string, number][]) =>
  totals.map(([s, n]) => [s, Math.round(n * 100)] as [string, number]).sort((a, b) => (a[0] < b[0] ? -1 : 1));

describe('typed CSV sources', () => {
  // Two files (one partition each in the in-memory runner), each with its header.
  const [first, second] = [salesCsv(150, 7), salesCsv(150, 8)];
  const files = { 'sales.csv': [first.text, second.text] };
  const cents = new Map(first.centsByStore);
  for (const [store, n] of second.centsByStore) cents.set(store, (cents.get(store) ?? 0) + n);
  const reference = [...cents].sort((a, b) => (a[0] < b[0] ? -1 : 1));

  it('sum numbers, not strings, with column types', async () => {
    const totals = await runAction(
      (ctx) =>
        ctx
          .csv('sales.csv', { header: true, types: { store: 'string', amount: 'number' } })
          .map((s) => [s.store, s.amount ?? 0] as [string, number])
          .reduceByKey((a, b) => a + b)
          .collect(),
      { files },
    );
    expect(inCents(totals)).toEqual(reference);
  });

  it('sum numbers with a zod schema over converted columns', async () => {
    const Sale = z.object({ store: z.string(), amount: z.number() });
    const totals = await runAction(
      (ctx) =>
        ctx
          .csv('sales.csv', { header: true, types: { amount: 'number' }, schema: Sale })
          .map((s) => [s.store, s.amount] as [string, number])
          .reduceByKey((a, b) => a + b)
          .collect(),
      { files },
    );
    expect(inCents(totals)).toEqual(reference);
  });

  it('without types or a schema, fields stay strings (the type says so)', async () => {
    const rows = await runAction((ctx) => ctx.csv('sales.csv', { header: true }).take(1), { files });
    expect(typeof rows[0]!.amount).toBe('string');
  });

  const bad = 'store,amount\nOslo,10.5\nLima,-3\nPune,\nOslo,2\n';
  const Sale = z.object({ store: z.string(), amount: z.number().nonnegative() });

  it('a row the schema rejects fails the task, naming file, byte offset, line and column', async () => {
    await expect(
      runAction(
        (ctx) => ctx.csv('sales.csv', { header: true, types: { amount: 'number' }, schema: Sale }).collect(),
        {
          files: { 'sales.csv': [bad] },
        },
      ),
    ).rejects.toMatchObject({
      code: 'BAD_INPUT_RECORD',
      retryable: false,
      message: expect.stringMatching(
        new RegExp(
          `^csv\\(sales\\.csv\\): bad record in sales\\.csv at byte ${bad.indexOf('Lima')}, line 3 \\(partition 0\\): column amount: .*>=0.*"Lima,-3"`,
        ),
      ),
      position: { file: 'sales.csv', byteOffset: bad.indexOf('Lima'), line: 3 },
    });
  });

  it("rows the schema rejects are dropped and counted with badRecords: 'skip'", async () => {
    const job = defineJob((ctx) =>
      ctx
        .csv('sales.csv', { header: true, types: { amount: 'number' }, schema: Sale, badRecords: 'skip' })
        .collect(),
    );
    const run = await runJobInMemory(job, undefined, { files: { 'sales.csv': [bad] } });
    // Reference: the rows whose amount is a non-negative number ('' converts to null, which z.number() refuses).
    const expected = bad
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','))
      .filter(([, a]) => a !== '' && Number(a) >= 0)
      .map(([store, a]) => ({ store, amount: Number(a) }));
    expect(run.results).toEqual(expected);
    expect(run.accumulators).toEqual({ 'badRecords:sales.csv': 2 });
  });

  it("the schema's output is the record: defaults and transforms apply", async () => {
    const schema = z.object({ store: z.string().transform((s) => s.toUpperCase()), amount: z.string() });
    const rows = await runAction((ctx) => ctx.csv('sales.csv', { header: true, schema }).take(2), {
      files: { 'sales.csv': [bad] },
    });
    expect(rows).toEqual([
      { store: 'OSLO', amount: '10.5' },
      { store: 'LIMA', amount: '-3' },
    ]);
  });
});

describe('jsonLines with a schema', () => {
  const Event = z.object({ user: z.string(), ms: z.number().int(), tags: z.array(z.string()).default([]) });
  const lines = [
    { user: 'ann', ms: 12 },
    { user: 'bo', ms: 7, tags: ['x'] },
    { user: 'cy', ms: 'late' },
    { user: 'ann', ms: 30, tags: [1] },
    { user: 'bo', ms: 5 },
  ].map((v) => JSON.stringify(v));
  const text = `${lines.join('\n')}\n`;

  it('validates each value and yields the schema output; ms sums as numbers', async () => {
    const job = defineJob((ctx) =>
      ctx
        .jsonLines('events.jsonl', { schema: Event, badRecords: 'skip' })
        .map((e) => [e.user, e.ms + e.tags.length] as [string, number])
        .reduceByKey((a, b) => a + b)
        .collect(),
    );
    const run = await runJobInMemory(job, undefined, { files: { 'events.jsonl': [text] } });
    // Reference: the values whose ms is an integer and whose tags, when present, are strings.
    const totals = new Map<string, number>();
    for (const line of lines) {
      const v = JSON.parse(line) as { user: string; ms: unknown; tags?: unknown[] };
      if (!Number.isInteger(v.ms) || (v.tags ?? []).some((t) => typeof t !== 'string')) continue;
      totals.set(v.user, (totals.get(v.user) ?? 0) + (v.ms as number) + (v.tags ?? []).length);
    }
    expect((run.results as [string, number][]).sort()).toEqual([...totals].sort());
    expect(run.accumulators).toEqual({ 'badRecords:events.jsonl': 2 });
  });

  it('a value the schema rejects fails the task naming file, byte offset, line and field', async () => {
    await expect(
      runAction((ctx) => ctx.jsonLines('events.jsonl', { schema: Event }).count(), {
        files: { 'events.jsonl': [text] },
      }),
    ).rejects.toMatchObject({
      code: 'BAD_INPUT_RECORD',
      message: expect.stringContaining(
        `jsonLines(events.jsonl): bad record in events.jsonl at byte ${text.indexOf('{"user":"cy"')}, line 3 (partition 0): field ms: `,
      ),
    });
  });

  it('names the nested field of an issue', async () => {
    await expect(
      runAction((ctx) => ctx.jsonLines('events.jsonl', { schema: Event }).count(), {
        files: { 'events.jsonl': [lines[3]!] },
      }),
    ).rejects.toThrow(/line 1 \(partition 0\): field tags\[0\]: /);
  });
});

describe('source schemas in the plan', () => {
  it('a schema that is not a Standard Schema is refused when the job is built', () => {
    const job = defineJob((ctx) => ctx.csv('a.csv', { schema: { parse: () => 1 } as never }).count());
    expect(() => buildJobGraph(job, undefined, { defaultParallelism: 2 })).toThrow(
      /csv\(a\.csv\): schema must be a Standard Schema/,
    );
  });

  it("the node records the schema's library; rebuilding the builder gives the same fingerprint", () => {
    const job = defineJob((ctx) => ctx.jsonLines('a.jsonl', { schema: z.object({ a: z.number() }) }).count());
    const a = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    const b = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.nodes[0]!.options).toMatchObject({ schema: 'zod' });
  });

  it('a schema that validates asynchronously fails the task once, saying why', async () => {
    const schema = z.object({ a: z.number() }).refine(async () => true);
    await expect(
      runAction((ctx) => ctx.jsonLines('a.jsonl', { schema }).count(), {
        files: { 'a.jsonl': ['{"a":1}\n'] },
      }),
    ).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('validates asynchronously'),
    });
  });
});

describe('examples/sales.ts', () => {
  it('sums the example sales per store, skipping and counting the rows its schema rejects', async () => {
    const file = path.resolve(import.meta.dirname, '../../examples/data/sales.csv');
    const text = await readFile(file, 'utf8');
    const run = await runJobInMemory(sales, { input: 'sales.csv' }, { files: { 'sales.csv': [text] } });
    // Reference: rows whose amount is a non-negative number, summed in cents.
    const cents = new Map<string, number>();
    let rejected = 0;
    for (const line of text.trim().split('\n').slice(1)) {
      const [store, amount] = line.split(',') as [string, string];
      if (amount === '' || !(Number(amount) >= 0)) rejected++;
      else cents.set(store, (cents.get(store) ?? 0) + Math.round(Number(amount) * 100));
    }
    expect(run.results).toEqual(
      [...cents].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([s, c]) => [s, c / 100]),
    );
    expect(rejected).toBe(2);
    expect(run.accumulators).toEqual({ 'badRecords:sales.csv': rejected });
  });
});
