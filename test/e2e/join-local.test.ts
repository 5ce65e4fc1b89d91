/**
 * `stratus local` in one process, `stratus run` joining it from another — as a user works
 * with a fabric that stays up: the run uses the fabric's executors and its slot count.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { builtFile, PACKAGE_ROOT } from '../helpers/dist.js';
import { killIfAlive, waitFor } from '../helpers/processes.js';

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
    const connection = await waitFor('the fabric to print its connection string and start', () =>
      out.includes('running;') ? /^storage:\s+(\S+)$/m.exec(out)?.[1] : undefined,
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
          timeout: 60_000,
          env: { ...process.env, STRATUS_CONNECTION: connection, STRATUS_TASK_QUEUE: `join-${process.pid}` },
        },
      );
      expect(JSON.parse(stdout).top[0]).toEqual(['the', 50]);
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
  }, 120_000);
});
