/**
 * The command line loads `@azure/identity` (and MSAL under it) and the Key Vault client only when
 * a deployment is reached by account name: a local run never pays for them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeferredDefaultAzureCredential, resolveAzureConnection } from '../../driver/fabric/azure.js';
import { builtFile } from '../helpers/dist.js';

describe('the Azure identity libraries are loaded on first use', () => {
  let dir: string;
  let hook: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stratus-lazy-identity-'));
    // A module hook that names every Azure identity / Key Vault module the process resolves.
    const resolver = path.join(dir, 'resolve.mjs');
    await writeFile(
      resolver,
      "export async function resolve(s, c, next) { const r = await next(s, c); if (/@azure\\/(identity|keyvault-secrets|msal-node)\\//.test(r.url)) console.error('LOADED ' + r.url); return r; }\n",
    );
    hook = path.join(dir, 'hook.mjs');
    await writeFile(
      hook,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(resolver).href)});\n`,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function stratus(...args: string[]) {
    return spawnSync(process.execPath, ['--import', hook, builtFile('driver/cli.js'), ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  it('the stratus command loads none of them to start, or to run a module locally up to its first error', () => {
    const version = stratus('--version');
    expect(version.status).toBe(0);
    const run = stratus('run', 'examples/wordcount.ts', '--param', 'input=/no/such/folder/*.txt');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('no input file matches');
    expect(`${version.stderr}${run.stderr}`).not.toContain('LOADED');
    // The hook does see them when they are loaded: the same process shape importing the library.
    const control = spawnSync(process.execPath, ['--import', hook, '-e', "import('@azure/identity')"], {
      encoding: 'utf8',
    });
    expect(control.stderr).toMatch(/LOADED .*@azure\/identity\//);
  });

  it('an account connection gets a credential that asks DefaultAzureCredential for its first token', async () => {
    const connection = resolveAzureConnection({ account: 'stratusdemo', env: {} });
    expect(connection.credential).toBeInstanceOf(DeferredDefaultAzureCredential);
    // No Azure sign-in exists on this machine: the chain of DefaultAzureCredential answers, and fails.
    await expect(connection.credential!.getToken('https://storage.azure.com/.default')).rejects.toMatchObject(
      {
        name: 'AggregateAuthenticationError',
      },
    );
  });
});
