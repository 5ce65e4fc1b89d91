/**
 * Ctrl-C on `stratus local`, as a terminal delivers it (SIGINT to the CLI's process group):
 * the CLI stops the executors and Azurite, and no process it started is left — found by
 * walking /proc for every descendant of the CLI while it runs, not by trusting what it printed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { builtFile, PACKAGE_ROOT } from '../helpers/dist.js';
import { descendantPids, isProcessAlive, killIfAlive, waitFor, waitUntilGone } from '../helpers/processes.js';

const started: number[] = [];
afterAll(() => {
  killIfAlive(started);
});

/** Azurite's own process: its entry among the arguments, and not its watchdog (`node -e <script> … azurite.js`). */
function isAzurite(pid: number): boolean {
  const argv = commandLine(pid);
  return argv[1] !== '-e' && argv.some((a) => /azurite\.js$/.test(a));
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Resolves true when something accepts a TCP connection on `port`, false when it is refused. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('stratus local and Ctrl-C', () => {
  it('SIGINT stops Azurite and every executor: no process the CLI started is left', async () => {
    const executors = 2;
    const local = spawn(
      process.execPath,
      [
        builtFile('driver/cli.js'),
        'local',
        '--executors',
        String(executors),
        '--slots',
        '1',
        '--queue',
        `sigint-${process.pid}`,
      ],
      // Its own process group, as a shell runs a foreground job, so Ctrl-C can go to the group.
      { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    started.push(local.pid!);
    let out = '';
    local.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    let err = '';
    local.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      local.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await waitFor('stratus local to be running', () => out.includes('running;'), 60_000);

    const tree = descendantPids(local.pid!);
    started.push(...tree);
    const printed = [...out.matchAll(/^executor:\s+\S+\s+pid (\d+)/gm)].map((m) => Number(m[1]));
    expect(printed).toHaveLength(executors);
    for (const pid of printed) expect(tree).toContain(pid);
    // Azurite itself, `node …/azurite.js …` (its watchdog, `node -e <script> …`, names it too).
    const azurite = tree.filter(isAzurite);
    expect(azurite).toHaveLength(1);
    const args = commandLine(azurite[0]!);
    const location = args[args.indexOf('--location') + 1]!;
    const queuePort = Number(args[args.indexOf('--queuePort') + 1]);
    expect(existsSync(location)).toBe(true);
    expect(await listening(queuePort)).toBe(true);
    // Each executor and Azurite runs under a watchdog: at least the 3 targets and their 3 watchdogs.
    expect(tree.length).toBeGreaterThanOrEqual(2 * (executors + 1));

    process.kill(-local.pid!, 'SIGINT');
    const exit = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`stratus local did not exit after SIGINT: ${err}`)),
          30_000,
        ).unref(),
      ),
    ]);
    expect(exit, err).toEqual({ code: 130, signal: null });
    expect(out).toContain('stopping executors');
    await waitUntilGone(tree, 15_000);
    expect(tree.filter(isProcessAlive)).toEqual([]);
    expect(await listening(queuePort)).toBe(false);
    // Azurite's temp data folder goes with it.
    expect(existsSync(location)).toBe(false);
  }, 120_000);

  it('a second SIGINT exits at once and still leaves no Azurite data folder or process behind', async () => {
    const local = spawn(
      process.execPath,
      [
        builtFile('driver/cli.js'),
        'local',
        '--executors',
        '1',
        '--slots',
        '1',
        '--queue',
        `sigint2-${process.pid}`,
      ],
      { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    started.push(local.pid!);
    let out = '';
    local.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      local.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await waitFor('stratus local to be running', () => out.includes('running;'), 60_000);
    const tree = descendantPids(local.pid!);
    started.push(...tree);
    const azurite = tree.find(isAzurite);
    expect(azurite).toBeDefined();
    const args = commandLine(azurite!);
    const location = args[args.indexOf('--location') + 1]!;
    expect(existsSync(location)).toBe(true);

    // The first starts the orderly stop; the second, while it runs, exits without waiting for it.
    process.kill(-local.pid!, 'SIGINT');
    await waitFor('the orderly stop to begin', () => out.includes('stopping executors'), 30_000);
    process.kill(-local.pid!, 'SIGINT');
    expect(await exited).toEqual({ code: 130, signal: null });
    await waitUntilGone(tree, 15_000);
    expect(tree.filter(isProcessAlive)).toEqual([]);
    // The watchdog removed the folder after Azurite exited, though the CLI did not wait for it.
    expect(existsSync(location)).toBe(false);
  }, 120_000);
});
