/**
 * The CLI's stdout through a pipe, as `stratus run --json | jq` and `stratus cat out/ | head`
 * use it: a reader slower than the CLI still gets every byte (the CLI exits only once stdout
 * has flushed), and a reader that leaves early stops the CLI quietly with 141, as a shell
 * reports `cat` killed by SIGPIPE.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeBuiltCli } from '../helpers/dist.js';

let dir: string;
let reference: Buffer;

beforeAll(async () => {
  // A committed output of 4 part files, ~16 MB in all: far more than a pipe buffer holds.
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-cli-pipes-'));
  const parts: Buffer[] = [];
  for (let p = 0; p < 4; p++) {
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(`${p * 200_000 + i}\trecord of part ${p}\n`);
    parts.push(Buffer.from(lines.join('')));
    await writeFile(path.join(dir, `part-0000${p}`), parts[p]!);
  }
  await writeFile(path.join(dir, '_SUCCESS'), '');
  reference = Buffer.concat(parts);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the CLI through a pipe', () => {
  it('stratus cat delivers every byte of a 16 MB output to a slow reader', async () => {
    const result = await pipeBuiltCli(['cat', dir], 'slow');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.length).toBe(reference.length);
    expect(result.stdout.equals(reference)).toBe(true);
  });

  it('stratus cat stops quietly with 141 when its reader closes after the first line', async () => {
    const result = await pipeBuiltCli(['cat', dir], 'first-line');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(141);
    expect(result.stdout.toString().split('\n')[0]).toBe('0\trecord of part 0');
  });

  it('stratus run --json delivers a 100,000-number sortBy().collect() whole to a slow reader', async () => {
    const n = 100_000;
    const result = await pipeBuiltCli(
      [
        'run',
        'test/e2e/jobs/many-numbers.ts',
        '--json',
        '--executors',
        '1',
        '--slots',
        '2',
        '--param',
        `n=${n}`,
      ],
      'slow',
    );
    expect(result.code, result.stderr).toBe(0);
    const expected = `${JSON.stringify(Array.from({ length: n }, (_, i) => n - 1 - i))}\n`;
    expect(result.stdout.length).toBe(Buffer.byteLength(expected));
    expect(result.stdout.toString()).toBe(expected);
  }, 120_000);
});
