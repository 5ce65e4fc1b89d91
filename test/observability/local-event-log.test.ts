/**
 * The event log of a default `stratus run` (embedded fabric, whose Azurite and its data are
 * gone when the run ends) survives as a local copy in `.stratus/event-logs/` of the working
 * directory; the run prints where, and `stratus ui` with no flags shows it from there.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEventLog } from '../../driver/observe/event-log.js';
import { builtFile, PACKAGE_ROOT } from '../helpers/dist.js';
import { killIfAlive, waitFor } from '../helpers/processes.js';

let dir: string;
const pids: number[] = [];

/** The environment of a user with no fabric configured and no log folder set. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['STRATUS_EVENT_LOG_DIR', 'STRATUS_CONNECTION', 'STRATUS_ACCOUNT', 'STRATUS_TASK_QUEUE'])
    delete env[k];
  return env;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-local-log-'));
});
afterAll(async () => {
  killIfAlive(pids);
  await rm(dir, { recursive: true, force: true });
});

describe('the local copy of an embedded run’s event log', () => {
  it('is kept in .stratus/event-logs, printed by stratus run, and shown by stratus ui with no flags', async () => {
    await writeFile(path.join(dir, 'words.txt'), 'a b a\nc a b\n');
    const { stderr } = await promisify(execFile)(
      process.execPath,
      [
        builtFile('driver/cli.js'),
        'run',
        path.join(PACKAGE_ROOT, 'examples', 'wordcount.ts'),
        '--json',
        '--executors',
        '1',
        '--slots',
        '1',
        '--param',
        `input=${path.join(dir, 'words.txt')}`,
      ],
      { cwd: dir, env: userEnv(), timeout: 90_000 },
    );
    const printed = /event log (\.stratus\/event-logs\/(app-[\w-]+)\.jsonl) \(`stratus ui` shows it/.exec(
      stderr,
    );
    expect(printed, stderr).not.toBeNull();
    const [, relative, appId] = printed!;
    const events = await readEventLog({ file: path.join(dir, relative!) });
    expect(events[0]).toMatchObject({ type: 'app-start', appId, mode: 'local' });
    expect(events.at(-1)).toMatchObject({ type: 'app-end', appId, status: 'succeeded' });
    // Operators are named by their line in the job module (source-mapped through the bundle).
    const stage = events.find((e) => e.type === 'stage-submitted' && e.kind === 'shuffle-map');
    expect(stage && 'name' in stage ? stage.name : '').toMatch(
      /^textFile at wordcount\.ts:\d+ → flatMap at wordcount\.ts:\d+ → filter at wordcount\.ts:\d+ → map at wordcount\.ts:\d+$/,
    );

    const ui = spawn(process.execPath, [builtFile('driver/cli.js'), 'ui', '--port', '0'], {
      cwd: dir,
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pids.push(ui.pid!);
    let out = '';
    ui.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    ui.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    try {
      const url = await waitFor('stratus ui to listen', () => /stratus ui: (http:\S+)/.exec(out)?.[1]);
      const listed = (await (await fetch(`${url}api/apps`)).json()) as {
        source: string;
        apps: { appId: string; status: string; jobs: number }[];
      };
      expect(listed.source).toBe(`${path.join(dir, '.stratus', 'event-logs')}${path.sep}`);
      expect(listed.apps).toEqual([expect.objectContaining({ appId, status: 'succeeded', jobs: 2 })]);
    } finally {
      ui.kill('SIGINT');
      await waitFor('stratus ui to stop', () => ui.exitCode !== null || ui.signalCode !== null);
    }
  }, 120_000);

  it('an application that fails before any job ends with the reason in its app-end', async () => {
    const failed = await promisify(execFile)(
      process.execPath,
      [
        builtFile('driver/cli.js'),
        'run',
        // A job module whose builder fails is refused before any fabric starts (no app, no
        // event log); a driver script that fails before its first job is an application.
        path.join(PACKAGE_ROOT, 'test', 'observability', 'fixtures', 'jobs', 'fails-before-jobs-driver.ts'),
        '--executors',
        '1',
        '--slots',
        '1',
      ],
      { cwd: dir, env: userEnv(), timeout: 90_000 },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    const { stderr } = failed as { stderr: string };
    const printed = /event log (\.stratus\/event-logs\/(app-[\w-]+)\.jsonl)/.exec(stderr);
    expect(printed, stderr).not.toBeNull();
    const events = await readEventLog({ file: path.join(dir, printed![1]!) });
    expect(events.filter((e) => e.type === 'job-start')).toEqual([]);
    const end = events.at(-1);
    expect(end).toMatchObject({ type: 'app-end', status: 'failed' });
    expect(end?.type === 'app-end' ? end.error?.message : undefined).toBe(
      'no inputs were given: pass --param inputs=<file>',
    );
  }, 120_000);

  it('stratus ui with nothing to show says where it looked and what to give', async () => {
    const empty = await mkdtemp(path.join(dir, 'empty-'));
    const failed = await promisify(execFile)(
      process.execPath,
      [builtFile('driver/cli.js'), 'ui', '--port', '0'],
      {
        cwd: empty,
        env: userEnv(),
        timeout: 30_000,
      },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toMatch(
      /no \.stratus\/event-logs folder .*--log-dir, --log-file, --connection-string/,
    );
    expect(existsSync(path.join(empty, '.stratus'))).toBe(false);
  });
});
