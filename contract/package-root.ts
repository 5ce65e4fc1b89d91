/**
 * Where the stratus package is installed: the folder holding its package.json, found from this
 * file's own location, which is `contract/` in the sources and `dist/contract/` when built.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The package root (…/stratus). Walks up to the first package.json named `stratus`, so it also
 * holds when a bundler moved this code (the function app has a package.json of its own).
 * Throws when there is none, which means the caller runs outside an installed package.
 */
export function packageRoot(): string {
  if (cached) return cached;
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'stratus'
    ) {
      cached = dir;
      return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`no stratus package.json above ${start}`);
  }
}
