/**
 * `stratus run` as a user runs it: a separate process that starts its own local fabric,
 * prints only the results as JSON with --json, and fails with the cause on stderr.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromTaggedJson, type JsonValue } from '../../engine/records/tagged-json.js';
import { builtFile, PACKAGE_ROOT } from '../helpers/dist.js';
import { descendantPids, killIfAlive, waitFor, waitUntilGone } from '../helpers/processes.js';

async function stratus(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [builtFile('driver/cli.js'), ...args],
      {
        cwd: PACKAGE_ROOT,
        timeout: 120_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-cli-run-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('stratus run', () => {
  it('prints results JSON cannot hold in tagged JSON with --json, and reads tagged --param values', async () => {
    const result = await stratus(
      'run',
      'test/e2e/jobs/typed-results.ts',
      '--json',
      '--executors',
      '1',
      '--slots',
      '2',
      '--param',
      'since={"$date":"2024-05-01T12:00:00.000Z"}',
    );
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as JsonValue;
    expect((printed as { values: JsonValue[] }).values[0]).toEqual({
      i: 0,
      since: { $date: '2024-05-01T12:00:00.000Z' },
      big: { $bigint: '1180591620717411303424' },
      nan: { $number: 'NaN' },
      inf: { $number: '-Infinity' },
      negZero: { $number: '-0' },
      nothing: { $undefined: true },
      bytes: { $Buffer: 'AAE=' },
      tags: { $set: ['a'] },
      index: { $map: [[{ $bigint: '1' }, { $date: '1970-01-01T00:00:00.000Z' }]] },
      $date: 'not a tag',
    });
    const values = (fromTaggedJson(printed) as { values: Record<string, unknown>[] }).values;
    expect(values[1]).toStrictEqual({
      i: 1,
      since: new Date('2024-05-01T12:00:00.000Z'),
      big: 2n ** 70n + 1n,
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      negZero: -0,
      nothing: undefined,
      bytes: Buffer.from([1, 1]),
      tags: new Set(['a']),
      index: new Map([[1n, new Date(0)]]),
      $date: 'not a tag',
    });
    expect(Object.is(values[1]!.negZero, -0)).toBe(true);
  });

  it('runs word count on a local fabric and prints only the results as JSON with --json (shuffle compressed)', async () => {
    const text = ['to be or not to be', 'that is the question', 'to be is to do'].join('\n');
    await writeFile(path.join(dir, 'words.txt'), text);
    const result = await stratus(
      'run',
      'examples/wordcount.ts',
      '--json',
      '--executors',
      '2',
      '--slots',
      '1',
      '--shuffle-compression',
      'brotli',
      '--param',
      `input=${path.join(dir, 'words.txt')}`,
      '--param',
      'top=3',
    );
    expect(result.code, result.stderr).toBe(0);
    const counts = new Map<string, number>();
    for (const w of text.split(/\s+/)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
    expect(JSON.parse(result.stdout)).toEqual({ top, distinct: counts.size });
  });

  it('exits non-zero with the user error, stage and partition on stderr when a task keeps failing', async () => {
    const result = await stratus(
      'run',
      'test/e2e/jobs/throws.ts',
      '--json',
      '--executors',
      '1',
      '--slots',
      '2',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/stage \d+, partition 1 failed 4 times/);
    expect(result.stderr).toContain('unlucky record 13');
    expect(result.stderr).toMatch(/at checkRecord \(.*throws\.ts:\d+:\d+\)/);
  });

  it('--azure without a storage account says how to name the deployment', async () => {
    const result = await stratus('run', 'examples/wordcount.ts', '--azure');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--account <name> or STRATUS_ACCOUNT');
  });

  it('refuses a shuffle compression it does not know, naming the choices', async () => {
    const result = await stratus('run', 'examples/wordcount.ts', '--shuffle-compression', 'zstd');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--shuffle-compression.*zstd.*brotli, none/s);
  });

  it('refuses a module that is neither a job module nor a driver script', async () => {
    const file = path.join(dir, 'plain.mjs');
    await writeFile(file, 'export default 42;\n');
    const result = await stratus('run', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('must default-export defineJob');
  });

  it('Ctrl-C (SIGINT) cancels the job, exits non-zero and leaves no process behind', async () => {
    const markers = await mkdtemp(path.join(dir, 'sigint-'));
    const tasks = 20; // 20 × 2 s on one slot: 40 s if it all ran
    const child = spawn(
      process.execPath,
      [
        builtFile('driver/cli.js'),
        'run',
        'test/faults/jobs/sleepy.ts',
        ...['--executors', '1', '--slots', '1'],
        ...['--param', `tasks=${tasks}`, '--param', 'ms=2000', '--param', `markers=${markers}`],
      ],
      { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout!.resume();
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let tree: number[] = [];
    try {
      await waitFor('a task to run', async () => (await readdir(markers)).length > 0, 90_000);
      // Azurite and the executor host, each under its watchdog.
      tree = descendantPids(child.pid!);
      expect(tree.length).toBeGreaterThanOrEqual(4);
      child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const [code] = await Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no exit within 30 s of SIGINT:\n${stderr}`)), 30_000);
        }),
      ]).finally(() => clearTimeout(timer));
      expect(code, stderr).toBe(130);
      expect(stderr).toContain('SIGINT, cancelling');
      expect(stderr).toMatch(/job \d+ was cancelled: interrupted \(SIGINT\)/);
      await waitUntilGone(tree);
      expect((await readdir(markers)).length).toBeLessThan(tasks);
    } finally {
      killIfAlive([child.pid, ...tree]);
    }
  }, 150_000);
});
