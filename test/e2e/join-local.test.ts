/**
 * `stratus local` in one process, `stratus run` joining it from another — as a user works
 * with a fabric that stays up: the run uses the fabric's executors and its slot count, by
 * connection string or, with no setting at all, by the record `stratus local` leaves; and a run
 * after that `stratus local` died starts a fabric of its own.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { glob } from 'tinyglobby';
import { afterAll, describe, expect, it } from 'vitest';
import { localFabricRecordPath } from '../../driver/fabric/local-registry.js';
import { builtFile, PACKAGE_ROOT, runBuiltCli } from '../helpers/dist.js';
import { descendantPids, killIfAlive, waitFor, waitUntilGone } from '../helpers/processes.js';

const pids: number[] = [];
afterAll(() => {
  killIfAlive(pids);
});

describe('joining a running stratus local', () => {
  it('stratus run with STRATUS_CONNECTION uses the running executors and their 3 × 2 slots', async () => {
    const local = spawn(
      process.execPath,
      [
        builtFile('driver/cli.js'),
        'local',
        '--executors',
        '3',
        '--slots',
        '2',
        '--queue',
        `join-${process.pid}`,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    pids.push(local.pid!);
    let out = '';
    local.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    // Generous: under a load of 20 on two cores `stratus local` took 26 s to start (bench/RESULTS.md).
    const connection = await waitFor(
      'the fabric to print its connection string and start',
      () => (out.includes('running;') ? /^storage:\s+(\S+)$/m.exec(out)?.[1] : undefined),
      60_000,
    );
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [
          builtFile('driver/cli.js'),
          'run',
          'examples/wordcount.ts',
          '--json',
          '--param',
          'input=examples/data/*.txt',
          '--param',
          'top=2',
        ],
        {
          cwd: PACKAGE_ROOT,
          timeout: 120_000,
          env: { ...process.env, STRATUS_CONNECTION: connection, STRATUS_TASK_QUEUE: `join-${process.pid}` },
        },
      );
      expect(JSON.parse(stdout).top).toEqual(await topWords(2));
      // The summary names the slots the driver planned for: those `stratus local` published.
      expect(stderr).toMatch(/slots:\s+6 slots planned/);
    } finally {
      local.kill('SIGINT');
      await waitFor(
        'stratus local to stop',
        () => local.exitCode !== null || local.signalCode !== null,
        30_000,
      );
    }
  }, 240_000);
});

/** The word count's top `n` words in plain JS over the same files: the reference. */
async function topWords(n: number): Promise<[string, number][]> {
  const counts = new Map<string, number>();
  for (const file of await glob('examples/data/*.txt', { cwd: PACKAGE_ROOT }))
    for (const word of readFileSync(path.join(PACKAGE_ROOT, file), 'utf8')
      .toLowerCase()
      .split(/[^\p{L}\p{N}']+/u))
      if (word.length > 0) counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0)).slice(0, n);
}

describe('stratus run --local with a stratus local running', () => {
  const queue = `join-auto-${process.pid}`;
  const runArgs = [
    'run',
    'examples/wordcount.ts',
    '--json',
    '--param',
    'input=examples/data/*.txt',
    '--param',
    'top=3',
  ];
  // STRATUS_HOME is the suite's (test/global-setup.ts): the record is written there.
  const env = { ...process.env, STRATUS_TASK_QUEUE: queue, STRATUS_CONNECTION: '' };
  delete (env as Record<string, string | undefined>).STRATUS_CONNECTION;
  let local: ChildProcess | undefined;

  it('joins it with no setting at all, says so, and plans for its 3 × 2 slots', async () => {
    local = spawn(
      process.execPath,
      [builtFile('driver/cli.js'), 'local', '--executors', '3', '--slots', '2', '--queue', queue],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    pids.push(local.pid!);
    let out = '';
    local.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await waitFor('stratus local to run', () => out.includes('running;'), 60_000);
    expect(out).toContain(`recorded:  ${localFabricRecordPath(queue, env)}`);
    const run = await runBuiltCli(runArgs, { env, cwd: PACKAGE_ROOT, timeoutMs: 90_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      `stratus run: joining the running stratus local (pid ${local.pid}, 3 executors × 2 slots, queue ${queue})`,
    );
    expect(run.stderr).toMatch(/slots:\s+6 slots planned/);
    expect(JSON.parse(run.stdout).top).toEqual(await topWords(3));
  }, 180_000);

  it('after it died without cleaning up (SIGKILL), the next run says its record is stale and starts its own fabric', async () => {
    if (!local) throw new Error('the previous test did not start stratus local');
    const family = [local.pid!, ...descendantPids(local.pid!)];
    local.kill('SIGKILL');
    // Its watchdog takes Azurite and the executors down with it.
    await waitUntilGone(family, 30_000);
    expect(existsSync(localFabricRecordPath(queue, env))).toBe(true);
    const run = await runBuiltCli(runArgs, { env, cwd: PACKAGE_ROOT, timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /a stratus local was recorded for queue \S+ but is gone \(its process \d+ is not running\)/,
    );
    expect(run.stderr).not.toContain('joining the running stratus local');
    expect(JSON.parse(run.stdout).top).toEqual(await topWords(3));
    expect(existsSync(localFabricRecordPath(queue, env))).toBe(false);
  }, 180_000);
});
