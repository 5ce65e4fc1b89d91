import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AzuriteHandle, azuriteEntryPath, startAzurite } from '../../driver/fabric/azurite.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { startChildScript } from '../helpers/child-script.js';
import { isProcessAlive, killIfAlive, waitUntilGone } from '../helpers/processes.js';

/** The parent pid of `pid`, from /proc (field 4 of stat). */
function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('the Azurite launcher', () => {
  const started: AzuriteHandle[] = [];
  const pidsToReap: number[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((a) => a.stop()));
    killIfAlive(pidsToReap.splice(0));
  });

  it('starts Azurite with blob and queue answering on free loopback ports', async () => {
    const azurite = await startAzurite();
    started.push(azurite);
    expect(azurite.blobPort).not.toBe(azurite.queuePort);
    expect(azurite.connectionString).toContain(`127.0.0.1:${azurite.queuePort}`);
    const storage = connectStorage({ connectionString: azurite.connectionString });
    const queue = new StorageQueue(storage, 'launcher-check');
    await queue.ensure();
    await queue.send('e30=');
    expect(await queue.receive(1)).toHaveLength(1);
    await storage.blobService.getContainerClient('launcher-check').createIfNotExists();
    expect(isProcessAlive(azurite.pid)).toBe(true);
  });

  it('Azurite runs with its telemetry library replaced by an empty stub, and serves', async () => {
    const azurite = await startAzurite();
    started.push(azurite);
    // Its own command line carries the preload, before Azurite's entry.
    const argv = readFileSync(`/proc/${azurite.pid}/cmdline`, 'utf8').split('\0');
    const preload = argv[argv.indexOf('--import') + 1];
    expect(preload).toMatch(/azurite-preload\.(js|ts)$/);
    expect(argv.indexOf('--import')).toBeLessThan(argv.findIndex((a) => a.endsWith('azurite.js')));
    expect(azurite.discardsData).toBe(true);
    // In a process with that preload, Azurite's require of the library gets the stub; without
    // it, the real library (which has `setup`).
    const probe =
      "const ai = require('applicationinsights'); console.log(JSON.stringify({ keys: Object.keys(ai).length, setup: typeof ai.setup, frozen: Object.isFrozen(ai) }));";
    const run = (args: string[]) =>
      JSON.parse(
        execFileSync(process.execPath, [...args, '-e', probe], {
          cwd: path.dirname(azuriteEntryPath()),
          encoding: 'utf8',
        }),
      );
    expect(run(['--import', preload!])).toEqual({ keys: 0, setup: 'undefined', frozen: true });
    expect(run([]).setup).toBe('function');
  });

  it('two launches get separate ports and data folders', async () => {
    const [a, b] = await Promise.all([startAzurite(), startAzurite()]);
    started.push(a, b);
    expect(new Set([a.blobPort, a.queuePort, b.blobPort, b.queuePort]).size).toBe(4);
    expect(a.location).not.toBe(b.location);
  });

  it('stop ends the Azurite process and removes its temp data folder', async () => {
    const azurite = await startAzurite();
    const watchdog = parentPid(azurite.pid);
    await azurite.stop();
    expect(isProcessAlive(azurite.pid)).toBe(false);
    await waitUntilGone([watchdog]);
    expect(existsSync(azurite.location)).toBe(false);
  });

  it('Azurite dies with the process that started it, even when that process is SIGKILLed', async () => {
    const { child, firstLine } = await startChildScript<{ pid: number; location: string }>(
      { launcher: 'driver/fabric/azurite.js' },
      [
        'const a = await launcher.startAzurite();',
        'console.log(JSON.stringify({ pid: a.pid, location: a.location }));',
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
    const { pid, location } = firstLine;
    const watchdog = parentPid(pid);
    pidsToReap.push(child.pid!, pid, watchdog);
    expect(isProcessAlive(pid)).toBe(true);

    process.kill(child.pid!, 'SIGKILL');
    await waitUntilGone([pid, watchdog]);
    await rm(location, { recursive: true, force: true });
  });
});
