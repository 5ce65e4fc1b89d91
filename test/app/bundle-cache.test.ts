/**
 * The bundler's content-addressed cache: an unchanged module is served from the cache (in this
 * process and from disk in the next), and any edit to any file the bundle was built from — even
 * one that keeps the file's size and modification time — builds afresh. The reference is a
 * build with no cache at all, over the same files.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BundleCache } from '../../driver/app/bundle-cache.js';
import { bundleJobModule } from '../../driver/app/bundler.js';

let dir: string;
let cacheDir: string;
const PAST = new Date('2026-01-01T00:00:00Z');

/** Write a file and date it in the past, as files are that were written before a run starts. */
function writeOld(file: string, text: string): void {
  writeFileSync(file, text);
  utimesSync(file, PAST, PAST);
}

function writeModule(factor: string): string {
  writeOld(path.join(dir, 'factor.ts'), `export const FACTOR = ${factor};\n`);
  const entry = path.join(dir, 'job.ts');
  writeOld(
    entry,
    [
      "import { defineJob } from 'stratus';",
      "import { FACTOR } from './factor.js';",
      'export default defineJob((ctx, p: { n: number }) =>',
      '  ctx.parallelize(Array.from({ length: p.n }, (_, i) => i), 2).map((i) => i * FACTOR).collect(),',
      ');',
      '',
    ].join('\n'),
  );
  return entry;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stratus-bundle-cache-src-'));
  cacheDir = mkdtempSync(path.join(tmpdir(), 'stratus-bundle-cache-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('the bundle cache', () => {
  it('serves an unchanged module from memory, then from disk in a new cache, byte for byte as a fresh build', async () => {
    const entry = writeModule('3');
    const reference = await bundleJobModule(entry, { cache: false });
    const cache = new BundleCache({ dir: cacheDir });
    const first = await bundleJobModule(entry, { cache });
    const second = await bundleJobModule(entry, { cache });
    expect([cache.misses, cache.hits]).toEqual([1, 1]);
    const nextProcess = new BundleCache({ dir: cacheDir });
    const third = await bundleJobModule(entry, { cache: nextProcess });
    expect(nextProcess.hits).toBe(1);
    for (const b of [first, second, third]) {
      expect(b.code).toBe(reference.code);
      expect(b.codeHash).toBe(reference.codeHash);
    }
  });

  it('builds afresh when an imported file changes, even with the same size and modification time', async () => {
    const entry = writeModule('3');
    const cache = new BundleCache({ dir: cacheDir });
    const before = await bundleJobModule(entry, { cache });
    // Same length, same mtime: only the content tells the change.
    writeOld(path.join(dir, 'factor.ts'), 'export const FACTOR = 7;\n');
    const after = await bundleJobModule(entry, { cache });
    const reference = await bundleJobModule(entry, { cache: false });
    expect(after.codeHash).not.toBe(before.codeHash);
    expect(after.code).toBe(reference.code);
    expect(after.code).toContain('FACTOR = 7');
    // The new build is cached in turn, for this process and the next.
    expect((await bundleJobModule(entry, { cache: new BundleCache({ dir: cacheDir }) })).code).toBe(
      reference.code,
    );
  });

  it('a cached bundle whose file was altered on disk is a miss, never a wrong bundle', async () => {
    const entry = writeModule('5');
    const built = await bundleJobModule(entry, { cache: new BundleCache({ dir: cacheDir }) });
    writeFileSync(path.join(cacheDir, `${built.codeHash}.mjs`), 'export default "tampered";\n');
    const cache = new BundleCache({ dir: cacheDir });
    const again = await bundleJobModule(entry, { cache });
    expect(cache.misses).toBe(1);
    expect(again.code).toBe((await bundleJobModule(entry, { cache: false })).code);
  });
});
