/**
 * Params schemas: a job module that declares its params (here with zod, through the Standard
 * Schema interface) gets them validated before anything runs, with errors naming each param,
 * and its builder receives the schema's output (defaults applied).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { StratusError } from '../../contract/errors.js';
import { defineJob } from '../../engine/dataset/job.js';
import { paramsPath, validateJobParams } from '../../engine/dataset/job-params.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';

const schema = z.object({
  records: z.number().int().positive(),
  step: z.number().default(1),
  tags: z.array(z.object({ name: z.string() })).optional(),
});

async function rejection(params: unknown): Promise<StratusError> {
  return (await validateJobParams(schema, params, 'sums.ts').catch((e: unknown) => e)) as StratusError;
}

describe('job params schemas', () => {
  it('a missing required param is refused, naming it and the module', async () => {
    const error = await rejection({ step: 2 });
    expect(error.code).toBe('PARAMS_INVALID');
    expect(error.message).toContain('job module sums.ts was given invalid params');
    expect(error.message).toMatch(/params\.records: .*expected number, received undefined/);
    expect(error.context.field).toBe('params.records');
  });

  it('a param of the wrong type is refused, naming it and what was expected', async () => {
    const error = await rejection({ records: '1000' });
    expect(error.code).toBe('PARAMS_INVALID');
    expect(error.message).toMatch(/params\.records: .*expected number, received string/);
  });

  it('every offending param is named, nested ones with their path', async () => {
    const error = await rejection({ records: -1, tags: [{ name: 'a' }, { name: 7 }] });
    expect(error.message).toContain('params.records:');
    expect(error.message).toContain('params.tags[1].name:');
  });

  it('valid params come back as the schema outputs them, defaults applied', async () => {
    expect(await validateJobParams(schema, { records: 3 }, 'sums.ts')).toEqual({ records: 3, step: 1 });
  });

  it('without a schema the params pass through unchanged', async () => {
    const params = { anything: [1, 'two'] };
    expect(await validateJobParams(undefined, params, 'plain.ts')).toBe(params);
  });

  it("the builder receives the schema's output, typed from the schema", async () => {
    const job = defineJob({ params: schema }, (ctx, p) => {
      expectTypeOf(p.step).toEqualTypeOf<number>();
      return ctx
        .parallelize(
          Array.from({ length: p.records }, (_, i) => i * p.step),
          2,
        )
        .reduce((a, b) => a + b);
    });
    const { results } = await runJobInMemory(job, { records: 4 });
    expect(results).toBe(0 + 1 + 2 + 3);
    await expect(runJobInMemory(job, { records: 0 })).rejects.toMatchObject({ code: 'PARAMS_INVALID' });
  });

  it('defineJob refuses a params option that is not a schema', () => {
    expect(() =>
      defineJob({ params: { records: 'number' } } as never, (ctx) => ctx.parallelize([1]).count()),
    ).toThrow(/Standard Schema/);
  });

  it('paths name array indexes and odd keys unambiguously', () => {
    expect(paramsPath(undefined)).toBe('params');
    expect(paramsPath(['a', 0, { key: 'b-c' }])).toBe('params.a[0]["b-c"]');
  });
});
