/**
 * The deployable function app (`npm run package:function` → dist/function-app, which azd zips
 * and deploys): its host.json and package.json are what the Functions host expects, it is
 * self-contained (no node_modules, nothing to install, no devDependency bundled), and the local
 * host loads it with the app settings the Bicep writes and reports the deployed slot count.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type ExecutorHandle, spawnExecutorHost } from '../../driver/fabric/executor-process.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { builtFile, PACKAGE_ROOT } from '../helpers/dist.js';
import { bicepAppSettings } from './app-settings.js';
import { evaluate } from './bicep-text.js';

const appDir = path.dirname(builtFile('function-app/package.json'));
const rootPackage = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8'));

describe('the packaged function app', () => {
  const started: ExecutorHandle[] = [];
  afterAll(async () => {
    await Promise.all(started.map((h) => h.stop(5_000)));
  });

  it('has the host.json that is in the sources, a v2 host file with the v4 extension bundle', () => {
    const deployed = JSON.parse(readFileSync(path.join(appDir, 'host.json'), 'utf8'));
    const source = JSON.parse(
      readFileSync(path.join(PACKAGE_ROOT, 'executor-function', 'host.json'), 'utf8'),
    );
    expect(deployed).toEqual(source);
    expect(deployed.version).toBe('2.0');
    // Flex Consumption requires extension bundle [4.0.0, 5.0.0) or later for non-.NET apps.
    expect(deployed.extensionBundle).toEqual({
      id: 'Microsoft.Azure.Functions.ExtensionBundle',
      version: '[4.*, 5.0.0)',
    });
    expect(deployed.extensions.queues.messageEncoding).toBe('base64');
  });

  it('has a package.json whose main is a CommonJS entry present in the folder, and no dependencies to install', () => {
    const pkg = JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8'));
    expect(pkg.main).toBe('app.js');
    expect(pkg.type).toBe('commonjs');
    expect(existsSync(path.join(appDir, pkg.main))).toBe(true);
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.devDependencies).toBeUndefined();
    expect(pkg.scripts).toBeUndefined();
  });

  it('holds only the bundles, their source maps, host.json, package.json and the shipped DuckDB packages', () => {
    const files = readdirSync(appDir).sort();
    expect(files).toEqual([
      'app.js',
      'app.js.map',
      'host.json',
      'node_modules',
      'package.json',
      'task-thread.js',
      'task-thread.js.map',
    ]);
    const shipped = readdirSync(path.join(appDir, 'node_modules'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name === 'package.json')
      .map((e) => JSON.parse(readFileSync(path.join(e.parentPath, e.name), 'utf8')).name as string)
      .sort();
    expect(shipped).toEqual([
      '@duckdb/node-api',
      '@duckdb/node-bindings',
      '@duckdb/node-bindings-linux-x64',
      'detect-libc',
    ]);
  });

  it('loads at run time only Node built-ins, the worker-provided @azure/functions-core and the shipped @duckdb/node-api', () => {
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    // DuckDB's native binding cannot be bundled: the package ships it (node_modules/) and the
    // task thread imports it lazily, the first time a DataFrame task runs.
    const shipped = new Set(['@azure/functions-core', '@duckdb/node-api']);
    for (const bundle of ['app.js', 'task-thread.js']) {
      const text = readFileSync(path.join(appDir, bundle), 'utf8');
      const loaded = new Set(
        [...text.matchAll(/\b(?:require|import)\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!),
      );
      // Relative specifiers are text inside bundled libraries (their own dynamic imports were bundled).
      const external = [...loaded].filter(
        (name) => !name.startsWith('.') && !builtins.has(name) && !shipped.has(name),
      );
      expect(external, bundle).toEqual([]);
    }
  });

  it('runs a DuckDB query with the binding it ships, resolved from the package folder alone', () => {
    const script =
      "import('@duckdb/node-api').then(async ({ DuckDBInstance }) => { const db = await DuckDBInstance.create(':memory:'); " +
      "const c = await db.connect(); const r = await c.runAndReadAll('SELECT 6 * 7 AS answer'); " +
      'process.stdout.write(JSON.stringify(r.getRowObjectsJson())); })';
    // A copy outside the repository, so module resolution cannot reach the repository's node_modules.
    const copy = mkdtempSync(path.join(tmpdir(), 'stratus-app-'));
    try {
      cpSync(appDir, copy, { recursive: true });
      const out = execFileSync(process.execPath, ['--input-type=commonjs', '-e', script], {
        cwd: copy,
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
      });
      expect(JSON.parse(out)).toEqual([{ answer: 42 }]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('bundles no devDependency, and does bundle the identity library for identity-based storage', () => {
    const meta = JSON.parse(readFileSync(builtFile('function-app.meta.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const inputs = Object.keys(meta.inputs);
    const devDependencies = Object.keys(rootPackage.devDependencies as Record<string, string>);
    const bundledDev = inputs.filter((file) =>
      devDependencies.some((dep) => file.includes(`node_modules/${dep}/`)),
    );
    expect(bundledDev).toEqual([]);
    expect(inputs.some((f) => f.includes('node_modules/@azure/identity/'))).toBe(true);
    expect(inputs).toContain('executor-function/storage-binding.ts');
  });

  it('starts in the local host with the slot settings the Bicep writes, and has the deployed slot count', async () => {
    const connectionString = inject('connectionString');
    const queue = `artifact-${Math.random().toString(36).slice(2, 10)}`;
    await new StorageQueue(connectStorage({ connectionString }), queue).ensure();
    // Not the local fabric's default (2), so only the Bicep's settings can produce it.
    const slots = 6;
    const settings = bicepAppSettings();
    const scope = { slotsPerExecutor: slots, maximumInstanceCount: 40 };
    const env: Record<string, string> = {};
    for (const name of [
      'AzureFunctionsJobHost__extensions__queues__batchSize',
      'AzureFunctionsJobHost__extensions__queues__newBatchThreshold',
    ]) {
      env[name] = String(evaluate(settings.get(name)!, scope));
    }
    const host = await spawnExecutorHost({
      connectionString,
      executorId: 'artifact-1',
      slots: 1, // overridden below by the Bicep's own settings
      queue,
      appDir,
      env,
    });
    started.push(host);
    const ready = await host.ready;
    expect(ready.slots).toBe(slots);
    expect(ready.queue).toBe(queue);
  });
});
