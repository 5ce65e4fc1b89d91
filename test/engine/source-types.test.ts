/**
 * The element types of the parsed sources, checked by `npm run typecheck` (tsc over test/): a
 * source's record type comes from its schema or its column types, never from a type argument
 * that claims what nothing checks. Each `@ts-expect-error` below is a line that must not compile.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { JobContext } from '../../engine/dataset/context.js';
import type { Dataset } from '../../engine/dataset/dataset.js';
import { defineJob } from '../../engine/dataset/job.js';
import type { CsvCell, JsonValue } from '../../engine/dataset/source-options.js';

interface Sale {
  store: string;
  amount: number;
}

/** Type-level checks only: the builder is never run. */
const typesOf = (build: (ctx: JobContext) => void) =>
  defineJob((ctx) => {
    build(ctx);
    return ctx.parallelize([1]).count();
  });

describe('source element types', () => {
  it('csv and jsonLines take no type argument: a claimed record type does not compile', () => {
    const job = typesOf((ctx) => {
      // @ts-expect-error a record type cannot be claimed: pass a schema or types instead
      ctx.csv<Sale>('sales.csv');
      // @ts-expect-error not even with options
      ctx.csv<Sale>('sales.csv', { header: true });
      // @ts-expect-error the same for JSON lines
      ctx.jsonLines<Sale>('sales.jsonl');
    });
    expect(job.kind).toBe('stratus-job');
  });

  it('without a schema or types, CSV rows are strings and JSON lines are JSON values', () => {
    typesOf((ctx) => {
      expectTypeOf(ctx.csv('a.csv', { header: true })).toEqualTypeOf<Dataset<Record<string, string>>>();
      expectTypeOf(ctx.csv('a.csv')).toEqualTypeOf<Dataset<string[]>>();
      expectTypeOf(ctx.csv('a.csv', { minPartitions: 4 })).toEqualTypeOf<Dataset<string[]>>();
      expectTypeOf(ctx.csv('a.csv', { columns: ['store', 'amount'] })).toEqualTypeOf<
        Dataset<Record<'store' | 'amount', string>>
      >();
      expectTypeOf(ctx.csv('a.csv', { header: true, types: 'infer' })).toEqualTypeOf<
        Dataset<Record<string, CsvCell>>
      >();
      expectTypeOf(ctx.jsonLines('a.jsonl')).toEqualTypeOf<Dataset<JsonValue>>();
      expectTypeOf(ctx.jsonLines('a.jsonl', { badRecords: 'skip' })).toEqualTypeOf<Dataset<JsonValue>>();
    });
  });

  it('column types give a mapped row type: numbers and booleans may be null (an empty field)', () => {
    typesOf((ctx) => {
      const sales = ctx.csv('sales.csv', { header: true, types: { store: 'string', amount: 'number' } });
      expectTypeOf(sales).toEqualTypeOf<Dataset<{ store: string; amount: number | null }>>();
      const named = ctx.csv('sales.csv', { columns: ['store', 'amount', 'ok'], types: { amount: 'number' } });
      expectTypeOf(named).toEqualTypeOf<Dataset<{ store: string; amount: number | null; ok: string }>>();
      const byIndex = ctx.csv('sales.csv', { types: { 1: 'boolean' } });
      byIndex.map((row) => {
        expectTypeOf(row[1]).toEqualTypeOf<boolean | null>();
        return row;
      });
      // @ts-expect-error an empty amount is null: summing needs a decision about it
      sales.map((s) => s.amount).reduce((a, b) => a + b);
    });
  });

  it("a schema's output type is the element type, for csv and jsonLines", () => {
    typesOf((ctx) => {
      const sale = z.object({ store: z.string(), amount: z.number() });
      const csv = ctx.csv('sales.csv', { header: true, types: { amount: 'number' }, schema: sale });
      expectTypeOf(csv).toEqualTypeOf<Dataset<{ store: string; amount: number }>>();
      const lines = ctx.jsonLines('sales.jsonl', { schema: sale, badRecords: 'skip' });
      expectTypeOf(lines).toEqualTypeOf<Dataset<{ store: string; amount: number }>>();
      const totals = lines.map((s) => [s.store, s.amount] as [string, number]).reduceByKey((a, b) => a + b);
      expectTypeOf(totals).toEqualTypeOf<Dataset<[string, number]>>();
    });
  });
});
