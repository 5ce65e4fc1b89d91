/**
 * A call site is read from the raw stack frames: engine frames are skipped by the file they run
 * in, and only the user's frame is mapped, through its module's source map. Node is never asked
 * to format the whole stack, which would map every frame and, in a packaged task thread, decode
 * the thread bundle's whole source map. A module Node has no map for falls back to the
 * formatted stack. Runs in a plain Node process: the test runner loads modules its own way.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtFile } from '../helpers/dist.js';

let dir: string;
const callSiteModule = () => pathToFileURL(builtFile('engine/plan/call-site.js')).href;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-call-site-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `main` (an ES module's text) in a fresh Node with source maps on; its stdout as JSON. */
async function runInNode(main: string): Promise<unknown> {
  const file = path.join(dir, `main-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, main);
  const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 30_000 });
  return JSON.parse(stdout);
}

describe('call sites from raw frames', () => {
  it("maps only the user's frame through its bundle's source map, without formatting the stack", async () => {
    // A job module in TypeScript, bundled as the driver bundles one (inline map, engine external).
    const source = path.join(dir, 'sales-job.ts');
    await writeFile(
      source,
      [
        `import { currentCallSite } from ${JSON.stringify(callSiteModule())};`,
        'type Row = { amount: number };',
        'const rows: Row[] = [];',
        '',
        'export function addMap(): string | undefined {',
        '  return currentCallSite();',
        '}',
        '',
      ].join('\n'),
    );
    const bundled = path.join(dir, 'bundle.mjs');
    await build({
      entryPoints: [source],
      bundle: true,
      format: 'esm',
      platform: 'node',
      sourcemap: 'inline',
      outfile: bundled,
      external: [callSiteModule()],
      logLevel: 'silent',
    });
    const result = await runInNode(
      [
        'process.setSourceMapsEnabled(true);',
        'let formatted = 0;',
        // Counts every time Node would format a stack (the fallback does, the quick path not).
        'Error.prepareStackTrace = (error) => { formatted++; return String(error); };',
        `const { addMap } = await import(${JSON.stringify(pathToFileURL(bundled).href)});`,
        'const site = addMap();',
        'console.log(JSON.stringify({ site, formatted }));',
      ].join('\n'),
    );
    expect(result).toEqual({ site: 'sales-job.ts:6', formatted: 0 });
  });

  it('a module Node has no source map for falls back to the formatted stack, with the same answer', async () => {
    const plain = path.join(dir, 'plain-job.mjs');
    await writeFile(
      plain,
      [
        `import { currentCallSite } from ${JSON.stringify(callSiteModule())};`,
        '',
        'export const site = currentCallSite();',
        '',
      ].join('\n'),
    );
    const result = await runInNode(
      [
        'process.setSourceMapsEnabled(true);',
        `const { site } = await import(${JSON.stringify(pathToFileURL(plain).href)});`,
        'console.log(JSON.stringify({ site }));',
      ].join('\n'),
    );
    expect(result).toEqual({ site: 'plain-job.mjs:3' });
  });
});
