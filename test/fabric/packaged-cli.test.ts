import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  it('npm pack of an unbuilt checkout builds first: prepack runs the build that writes dist/', async () => {
    const pkg = JSON.parse(await readFile(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      files: string[];
    };
    expect(pkg.scripts.prepack).toBe('npm run build');
    // The package ships dist/; without a build there would be nothing to ship.
    expect(pkg.files.filter((f) => f.startsWith('dist/')).length).toBeGreaterThan(0);
  });

  const pids: number[] = [];
  let folder: string | undefined;
  afterAll(async () => {
    killIfAlive(pids);
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('installed from its tarball into a fresh folder, a user job module and driver script typecheck against its types, `npx stratus run` refuses a mistyped one, and `npx stratus noop` and `npx stratus run` of them succeed, a DataFrame job included', async () => {
    builtFile('driver/cli.js'); // fail early, clearly, when the package was not built
    folder = await mkdtemp(path.join(tmpdir(), 'stratus-pack-'));
    // Built above already: --ignore-scripts skips prepack's rebuild, which would rewrite dist/
    // under the feet of other test files running the built CLI at the same time.
    const packed = await run(
      'npm',
      ['pack', '--ignore-scripts', '--pack-destination', folder],
      PACKAGE_ROOT,
      pids,
    );
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

    // A user's own job module and driver script, importing the installed package.
    await writeFile(
      path.join(app, 'squares.ts'),
      [
        "import { defineJob } from 'stratus';",
        'export default defineJob((ctx, p: { n: number }) =>',
        '  ctx.parallelize(Array.from({ length: p.n }, (_, i) => i), 3)',
        '    .map((i) => [i % 4, i * i] as [number, number])',
        '    .reduceByKey((a, b) => a + b)',
        '    .sortByKey()',
        '    .collect(),',
        ');',
        '',
      ].join('\n'),
    );
    await writeFile(
      path.join(app, 'twice.ts'),
      [
        "import { defineDriverScript } from 'stratus/driver';",
        "import squares from './squares.js';",
        'type Exactly<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;',
        'export default defineDriverScript(async (driver, p: { n: number }) => {',
        '  const first = await driver.run(squares, { n: p.n });',
        '  const typed: Exactly<typeof first, [number, number][]> = true;',
        '  const second = await driver.run(squares, { n: p.n * 2 });',
        '  return { first, second, typed };',
        '});',
        '',
      ].join('\n'),
    );
    // The published types alone type the user's files: `stratus/driver` reaches the job-module
    // types through `stratus`, and a run's result is the job's, not `any` (which Exactly refuses).
    await writeFile(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          target: 'ES2022',
          module: 'preserve',
          moduleResolution: 'bundler',
          types: ['node'],
          typeRoots: [path.join(PACKAGE_ROOT, 'node_modules', '@types')],
        },
        files: ['squares.ts', 'twice.ts'],
      }),
    );
    const tsc = path.join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const typecheck = await run(process.execPath, [tsc, '-p', app], app, pids, 120_000);
    expect(typecheck.code, typecheck.output).toBe(0);
    // `stratus run` type-checks with the installed compiler and the user's tsconfig first: a type
    // error is refused with tsc's report alone, before anything starts.
    await writeFile(
      path.join(app, 'mistyped.ts'),
      [
        "import { defineJob } from 'stratus';",
        "const label: number = 'squares';",
        'export default defineJob((ctx) => ctx.parallelize([1, 2], 1).map((n) => [label, n * n]).collect());',
        '',
      ].join('\n'),
    );
    const refused = await run('npx', ['stratus', 'run', 'mistyped.ts'], app, pids, 120_000);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toMatch(
      /^mistyped\.ts:2:7 - error TS2322: Type 'string' is not assignable to type 'number'\.$/m,
    );
    expect(refused.output).not.toMatch(/event log|stratus:/);
    const sums = (n: number) => {
      const out = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) out[i % 4]! += i * i;
      return out.map((v, k) => [k, v]);
    };
    const job = await run(
      'npx',
      ['stratus', 'run', 'squares.ts', '--json', '--param', 'n=100'],
      app,
      pids,
      120_000,
    );
    expect(job.code, job.output).toBe(0);
    expect(JSON.parse(job.output.split('\n').find((l) => l.startsWith('['))!)).toEqual(sums(100));
    const script = await run(
      'npx',
      ['stratus', 'run', 'twice.ts', '--json', '--param', 'n=10'],
      app,
      pids,
      120_000,
    );
    expect(script.code, script.output).toBe(0);
    expect(JSON.parse(script.output.split('\n').find((l) => l.startsWith('{'))!)).toEqual({
      first: sums(10),
      second: sums(20),
      typed: true,
    });

    // A DataFrame job: its tasks run in DuckDB inside the installed package's function app, whose
    // native binding comes from the package's own dependencies (the tarball leaves
    // dist/function-app/node_modules out).
    await writeFile(
      path.join(app, 'frames.ts'),
      [
        "import { count, defineJob, sum } from 'stratus';",
        'export default defineJob((ctx, p: { n: number }) => {',
        "  ctx.conf.set('spark.sql.shuffle.partitions', 3);",
        '  const rows = Array.from({ length: p.n }, (_, i) => ({ k: i % 4, v: i * i }));',
        "  return ctx.createDataFrame(rows, 'k INT, v LONG', 4)",
        "    .groupBy('k').agg(sum('v').as('total'), count('*').as('n'))",
        "    .orderBy('k')",
        '    .collect();',
        '});',
        '',
      ].join('\n'),
    );
    const frames = await run(
      'npx',
      ['stratus', 'run', 'frames.ts', '--json', '--param', 'n=1000'],
      app,
      pids,
      180_000,
    );
    expect(frames.code, frames.output).toBe(0);
    const groups = sums(1000).map(([k, total]) => ({ k, total, n: 250 }));
    expect(JSON.parse(frames.output.split('\n').find((l) => l.startsWith('['))!)).toEqual(groups);
    // 515 s at load 20 on 2 cores (pack, install, four fabrics); the bound catches a hang.
  }, 900_000);
});
