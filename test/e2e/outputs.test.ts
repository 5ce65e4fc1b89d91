/**
 * Outputs are committed exactly once, even when every task message is delivered twice, and
 * read back with `stratus cat` / `stratus download`; an output without _SUCCESS is refused.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtFile } from '../helpers/dist.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { sendTwice } from '../helpers/queue-faults.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');
let e2e: E2EFabric;
let dir: string;

async function stratus(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [builtFile('driver/cli.js'), ...args],
      {
        timeout: 60_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  e2e = await startE2E({ label: 'outputs' });
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-outputs-'));
});
afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const rowsOf = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: String(i),
    name: i % 3 === 0 ? `a "quoted", name ${i}` : `n${i}`,
    ok: String(i % 2 === 0),
  }));

describe('committed outputs', () => {
  it('saveAsCsv under duplicate delivery writes each partition once, with a header per part file', async () => {
    const restore = sendTwice(e2e.fabric.queue);
    const local = path.join(dir, 'csv');
    const remote = `az://outputs/csv-${Date.now().toString(36)}`;
    try {
      for (const output of [local, remote]) {
        const result = await e2e.driver.run(path.join(JOBS, 'save-csv.ts'), { n: 30, output });
        expect(result).toEqual({ path: output, partitions: 3, records: 30 });
      }
    } finally {
      restore();
    }
    expect((await readdir(local)).sort()).toEqual(['_SUCCESS', 'part-00000', 'part-00001', 'part-00002']);
    const rows: Record<string, string>[] = [];
    for (const part of ['part-00000', 'part-00001', 'part-00002']) {
      const text = await readFile(path.join(local, part), 'utf8');
      expect(text.startsWith('id,name,ok\n')).toBe(true);
      rows.push(...(parse(text, { columns: true }) as Record<string, string>[]));
    }
    expect(rows).toEqual(rowsOf(30));

    // stratus cat prints the parts in order; stratus download copies the az:// output.
    const cat = await stratus('cat', local);
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdout).toBe(
      (
        await Promise.all(
          ['part-00000', 'part-00001', 'part-00002'].map((p) => readFile(path.join(local, p), 'utf8')),
        )
      ).join(''),
    );
    const copy = path.join(dir, 'copy');
    const download = await stratus(
      'download',
      remote,
      copy,
      '--connection-string',
      e2e.fabric.connectionString,
    );
    expect(download.code, download.stderr).toBe(0);
    for (const part of ['part-00000', 'part-00001', 'part-00002']) {
      expect(await readFile(path.join(copy, part), 'utf8')).toBe(
        await readFile(path.join(local, part), 'utf8'),
      );
    }
  });

  it('stratus cat refuses an output without _SUCCESS', async () => {
    const half = path.join(dir, 'half');
    await mkdir(half);
    await writeFile(path.join(half, 'part-00000'), 'partial\n');
    const cat = await stratus('cat', half);
    expect(cat.code).toBe(1);
    expect(cat.stderr).toContain('has no _SUCCESS');
  });
});
