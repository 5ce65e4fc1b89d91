import { execFile } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { azuriteConnectionString } from '../../storage/connection.js';
import { builtFile } from '../helpers/dist.js';
import { suiteConnectionString, uniqueTaskQueue } from '../helpers/fabric.js';

/** Run the built CLI; resolves with exit code and stderr (never rejects). */
async function stratus(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [builtFile('driver/cli.js'), ...args],
      {
        timeout: 30_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the stratus CLI', () => {
  it('rejects an unknown flag with a clear error and a non-zero exit', async () => {
    const result = await stratus('noop', '--bogus');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown option '--bogus'");
  });

  it('rejects an unknown command', async () => {
    const result = await stratus('frobnicate');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });

  it('rejects a slot count that is not a positive integer', async () => {
    const result = await stratus('local', '--slots', '0');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('expected an integer ≥ 1');
  });

  it('lists its subcommands in --help', async () => {
    const result = await stratus('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/local[\s\S]*noop/);
  });

  it('noop takes --connection-string as every other command does, and still accepts --connection', async () => {
    const help = await stratus('noop', '--help');
    expect(help.stdout).toContain('--connection-string <string>');
    expect(help.stdout).not.toMatch(/--connection </);
    for (const flag of ['--connection-string', '--connection']) {
      const result = await stratus(
        'noop',
        '--tasks',
        '0',
        flag,
        suiteConnectionString(),
        '--queue',
        uniqueTaskQueue('noop-flag'),
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('0 tasks on the given account');
    }
  });

  it('a connection string to a fabric that is not running fails naming the endpoint and what to do, without a stack', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve)); // nothing listens there any more
    const result = await stratus(
      'run',
      'examples/wordcount.ts',
      '--connection-string',
      azuriteConnectionString(port, port),
      '--param',
      'input=examples/data/*.txt',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no storage service answers at http://127.0.0.1:${port} (ECONNREFUSED)`);
    expect(result.stderr).toContain('stratus local');
    expect(result.stderr).not.toMatch(/RestError|\n\s+at /);
  });

  // The local fabric starts while the module is checked; `stratus run: event log …` is printed once
  // the driver has connected. An error alone on stderr was found before the driver connected,
  // and the fabric begun meanwhile was stopped without a word.
  it('run reports a missing local input file before the driver connects, and nothing else', async () => {
    const result = await stratus('run', 'examples/wordcount.ts', '--param', 'input=/no/such/folder/*.txt');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^stratus: no input file matches \/no\/such\/folder\/\*\.txt \(from .*\)\n$/,
    );
  });

  it("run reports params that fail the module's schema before the driver connects", async () => {
    const result = await stratus('run', 'test/faults/jobs/typed-params.ts', '--param', 'records=ten');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^stratus: .*typed-params\.ts.*params\.records: .*expected number, received string/,
    );
    expect(result.stderr).not.toContain('event log');
  });
});
