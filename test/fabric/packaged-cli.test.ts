import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtFile, PACKAGE_ROOT } from '../helpers/dist.js';
import { killIfAlive } from '../helpers/processes.js';

/** Run a command to completion (bounded); resolves with its exit code and output. */
async function run(
  command: string,
  args: string[],
  cwd: string,
  pids: number[],
  timeoutMs = 180_000,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  pids.push(child.pid!);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

describe('the published package', () => {
  const pids: number[] = [];
  let folder: string | undefined;
  afterAll(async () => {
    killIfAlive(pids);
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('installed from its tarball into a fresh folder, `npx stratus noop` runs to success', async () => {
    builtFile('driver/cli.js'); // fail early, clearly, when the package was not built
    folder = await mkdtemp(path.join(tmpdir(), 'stratus-pack-'));
    const packed = await run('npm', ['pack', '--pack-destination', folder], PACKAGE_ROOT, pids);
    expect(packed.code, packed.output).toBe(0);
    const tarball = (await readdir(folder)).find((f) => f.endsWith('.tgz'));
    expect(tarball, packed.output).toBeDefined();

    const app = path.join(folder, 'app');
    await mkdir(app);
    await writeFile(path.join(app, 'package.json'), '{ "name": "try-stratus", "private": true }\n');
    const installed = await run(
      'npm',
      ['install', path.join(folder, tarball!), '--prefer-offline', '--no-audit', '--no-fund'],
      app,
      pids,
    );
    expect(installed.code, installed.output).toBe(0);

    const noop = await run('npx', ['stratus', 'noop', '--tasks', '20'], app, pids, 120_000);
    expect(noop.code, noop.output).toBe(0);
    expect(noop.output).toMatch(/tasks:\s+20\/20 succeeded/);
    expect(noop.output).toMatch(/executors seen:\s+2 /);
  }, 300_000);
});
