/**
 * The type check before a run (driver/app/typecheck.ts), in a user's project of its own: a
 * temp folder with `stratus` (and `@types/node`) in its node_modules, as an install leaves them.
 * A type error — in the module or in a file it imports — is reported as tsc reports it; a
 * correct module passes and, unchanged, passes again from the cache without the compiler; an
 * edit to an imported file is seen; the project's tsconfig.json decides the options. From the
 * command line: `stratus run` and `stratus explain` refuse a module that does not type-check
 * with tsc's report alone, before loading it or starting anything; `--no-typecheck` skips.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stratusSourceDirs, typeCheckModule } from '../../driver/app/typecheck.js';
import { PACKAGE_ROOT, runBuiltCli } from '../helpers/dist.js';

/** One diagnostic line as tsc prints it: `file:line:col - error TSxxxx: message`. */
const TSC_LINE = /^[^\s:]+:\d+:\d+ - error TS\d+: .+$/;

let project: string;

/** Write `text` at `relative` in the project (folders made as needed); returns the absolute path. */
async function put(relative: string, text: string): Promise<string> {
  const file = path.join(project, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

beforeAll(async () => {
  project = await mkdtemp(path.join(tmpdir(), 'stratus-typecheck-'));
  await put('package.json', '{ "name": "typecheck-project", "private": true, "type": "module" }\n');
  await mkdir(path.join(project, 'node_modules', '@types'), { recursive: true });
  await symlink(PACKAGE_ROOT, path.join(project, 'node_modules', 'stratus'), 'dir');
  await symlink(
    path.join(PACKAGE_ROOT, 'node_modules', '@types', 'node'),
    path.join(project, 'node_modules', '@types', 'node'),
    'dir',
  );
  await put('lib/square.ts', 'export function square(n: number): number {\n  return n * n;\n}\n');
  await put(
    'good.ts',
    [
      "import { defineJob } from 'stratus';",
      "import { square } from './lib/square.js';",
      'export default defineJob((ctx, p: { n: number }) =>',
      '  ctx.parallelize(Array.from({ length: p.n }, (_, i) => i), 2).map(square).collect(),',
      ');',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe('the type check of a job module', () => {
  it('reports a type error in the module, and one in a file it imports, as tsc does', async () => {
    await put('lib/half.ts', 'export function half(n: number): string {\n  return n / 2;\n}\n');
    await put(
      'bad.ts',
      [
        "import { defineJob } from 'stratus';",
        "import { half } from './lib/half.js';",
        'export default defineJob((ctx) =>',
        '  ctx.parallelize([1, 2], 1).map((n) => n.toUpperCase() + half(n)).collect(),',
        ');',
        '',
      ].join('\n'),
    );
    const verdict = typeCheckModule('bad.ts', { cwd: project });
    expect(verdict).toMatchObject({ ok: false, source: 'compiler', errorCount: 2 });
    expect(verdict.report).toBe(
      [
        "bad.ts:4:43 - error TS2339: Property 'toUpperCase' does not exist on type 'number'.",
        "lib/half.ts:2:3 - error TS2322: Type 'number' is not assignable to type 'string'.",
        '',
      ].join('\n'),
    );
  });

  it('passes a correct module, and passes it again unchanged from the cache, without the compiler', async () => {
    const cacheDir = path.join(project, 'cache-pass');
    expect(typeCheckModule('good.ts', { cwd: project, cacheDir })).toEqual({
      ok: true,
      source: 'compiler',
      errorCount: 0,
      report: '',
    });
    expect(typeCheckModule('good.ts', { cwd: project, cacheDir }).source).toBe('cache');
  });

  it('checks again when a file the module imports changed since its cached pass', async () => {
    const cacheDir = path.join(project, 'cache-edit');
    await put('lib/triple.ts', 'export const triple = (n: number): number => 3 * n;\n');
    await put(
      'uses-triple.ts',
      "import { defineJob } from 'stratus';\nimport { triple } from './lib/triple.js';\nexport default defineJob((ctx) => ctx.parallelize([1], 1).map(triple).collect());\n",
    );
    expect(typeCheckModule('uses-triple.ts', { cwd: project, cacheDir }).source).toBe('compiler');
    expect(typeCheckModule('uses-triple.ts', { cwd: project, cacheDir }).source).toBe('cache');
    await put('lib/triple.ts', 'export const triple = (n: string): string => n.repeat(3);\n');
    const verdict = typeCheckModule('uses-triple.ts', { cwd: project, cacheDir });
    expect(verdict).toMatchObject({ ok: false, source: 'compiler' });
    expect(verdict.report).toMatch(/^uses-triple\.ts:3:\d+ - error TS2345: /);
  });

  it("uses the project's tsconfig.json, found upward from the module, for the compiler options", async () => {
    // An untyped parameter: an error under the default strict options, allowed by this tsconfig.
    const nested = path.join(project, 'loose');
    await put(
      'loose/tsconfig.json',
      '{ "compilerOptions": { "strict": false, "module": "NodeNext", "skipLibCheck": true } }\n',
    );
    await put(
      'loose/jobs/untyped.ts',
      "import { defineJob } from 'stratus';\nconst twice = (n) => n * 2;\nexport default defineJob((ctx) => ctx.parallelize([1], 1).map(twice).collect());\n",
    );
    await put('strict/untyped.ts', 'const twice = (n) => n * 2;\nexport default twice;\n');
    expect(typeCheckModule('jobs/untyped.ts', { cwd: nested }).ok).toBe(true);
    const strict = typeCheckModule('strict/untyped.ts', { cwd: project });
    expect(strict.report).toMatch(
      /^strict\/untyped\.ts:1:16 - error TS7006: Parameter 'n' implicitly has an 'any' type\.\n$/,
    );
  });
});

describe('the type check inside a checkout of stratus', () => {
  it("names the package's own source folders from its package.json, and still reports the module's errors there", async () => {
    const dirs = stratusSourceDirs();
    expect(dirs).toEqual(
      expect.arrayContaining([
        path.join(PACKAGE_ROOT, 'engine') + path.sep,
        path.join(PACKAGE_ROOT, 'driver') + path.sep,
      ]),
    );
    expect(dirs.every((d) => d.startsWith(PACKAGE_ROOT + path.sep))).toBe(true);
    // A module in the checkout: `stratus` resolves by self-reference to the engine's sources,
    // which are not checked per run; the module's own error is reported as tsc reports it.
    const dir = await mkdtemp(path.join(PACKAGE_ROOT, 'test-artifacts', 'typecheck-'));
    try {
      await writeFile(
        path.join(dir, 'bad.ts'),
        [
          "import { defineJob } from 'stratus';",
          'export default defineJob((ctx) => ctx.parallelize([1, 2], 1).map((n) => n.toUpperCase()).collect());',
          '',
        ].join('\n'),
      );
      const verdict = typeCheckModule(path.join(dir, 'bad.ts'), {
        cwd: dir,
        cacheDir: path.join(dir, 'cache'),
      });
      expect(verdict).toMatchObject({ ok: false, source: 'compiler', errorCount: 1 });
      expect(verdict.report).toMatch(
        /^bad\.ts:2:\d+ - error TS2339: Property 'toUpperCase' does not exist on type 'number'\.\n$/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('stratus run and explain type-check first', () => {
  /** A job module with a type error that runs fine as JavaScript, and leaves a marker when loaded. */
  async function mislabelled(): Promise<{ file: string; marker: string }> {
    const marker = path.join(project, 'loaded.marker');
    const file = await put(
      'mislabelled.ts',
      [
        "import { writeFileSync } from 'node:fs';",
        "import { defineJob } from 'stratus';",
        `writeFileSync(${JSON.stringify(marker)}, 'loaded');`,
        "const label: number = 'squares';",
        'export default defineJob((ctx) => ctx.parallelize([1, 2, 3], 1).map((n) => [label, n * n]).collect());',
        '',
      ].join('\n'),
    );
    return { file, marker };
  }

  it("`stratus run` refuses a module that does not type-check with tsc's report alone, exit 1, before loading it", async () => {
    const { marker } = await mislabelled();
    const result = await runBuiltCli(['run', 'mislabelled.ts'], { cwd: project });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      "mislabelled.ts:4:7 - error TS2322: Type 'string' is not assignable to type 'number'.\n",
    );
    expect(
      result.stderr
        .trimEnd()
        .split('\n')
        .every((line) => TSC_LINE.test(line)),
    ).toBe(true);
    // Nothing ran: the module's top level never executed, so no fabric was asked for either.
    expect(existsSync(marker)).toBe(false);
  });

  it('`stratus explain` refuses it too, and explains a correct module', async () => {
    await mislabelled();
    const refused = await runBuiltCli(['explain', 'mislabelled.ts'], { cwd: project });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trimEnd()).toMatch(TSC_LINE);
    const explained = await runBuiltCli(['explain', 'good.ts', '--param', 'n=4', '--json'], { cwd: project });
    expect(explained.code, explained.stderr).toBe(0);
    expect(JSON.parse(explained.stdout)).toMatchObject({ totals: { jobs: 1 } });
  });

  it('--no-typecheck skips the check: explain plans the module and run goes on to load it', async () => {
    await mislabelled();
    const explained = await runBuiltCli(['explain', 'mislabelled.ts', '--no-typecheck', '--json'], {
      cwd: project,
    });
    expect(explained.code, explained.stderr).toBe(0);
    expect(JSON.parse(explained.stdout)).toMatchObject({ totals: { jobs: 1 } });
    // Loading is where run's own checks start; a non-module default export stops it before any fabric.
    await put('not-a-job.ts', "const answer: number = 'forty-two';\nexport default answer;\n");
    const run = await runBuiltCli(['run', 'not-a-job.ts', '--no-typecheck'], { cwd: project });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('must default-export defineJob');
  });
});
