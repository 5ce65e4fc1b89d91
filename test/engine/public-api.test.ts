/**
 * The `stratus` entry is the job-module API and nothing more (api/stratus.api.md has its types):
 * what a job bundle can import at run time is defineJob, the user-facing errors, the key
 * functions and the DataFrame column functions (col, lit, expr, sum…), and an engine internal imported from 'stratus' stops the bundle at build time.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleJobModule } from '../../driver/app/bundler.js';
import * as stratus from '../../engine/index.js';

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'stratus-public-api-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('the stratus entry', () => {
  it('offers at run time defineJob, the user-facing errors, the key functions, the DataFrame column and window functions, nothing else', () => {
    expect(Object.keys(stratus).sort()).toEqual([
      'BadRecordError',
      'ConfigError',
      'EmptyCollectionError',
      'InvalidKeyError',
      'JobFailedError',
      'NonRetryableError',
      'ProtocolError',
      'RecordDecodingError',
      'RecordEncodingError',
      'StratusError',
      'UserCodeError',
      'Window',
      'abs',
      'avg',
      'broadcast',
      'canonicalKey',
      'coalesce',
      'col',
      'collect_list',
      'column',
      'compareKeys',
      'count',
      'countDistinct',
      'cume_dist',
      'defineJob',
      'dense_rank',
      'expr',
      'first',
      'hashKey',
      'lag',
      'lead',
      'lit',
      'lower',
      'max',
      'mean',
      'min',
      'ntile',
      'percent_rank',
      'rank',
      'round',
      'row_number',
      'sum',
      'upper',
    ]);
  });

  it('refuses to bundle a job module that imports an engine internal from it, naming the import', async () => {
    const file = path.join(folder, 'plans-itself.ts');
    await writeFile(
      file,
      [
        "import { defineJob, planJob } from 'stratus';",
        'export default defineJob((ctx) => { void planJob; return ctx.parallelize([1]).count(); });',
        '',
      ].join('\n'),
    );
    await expect(bundleJobModule(file)).rejects.toMatchObject({
      code: 'JOB_MODULE_BUILD',
      message: expect.stringContaining('planJob'),
    });
  });
});
