/**
 * The built package (`dist/`), for tests that start a separate Node process the way a user
 * would: `npm test` builds first; running vitest alone needs `npm run build` beforehand.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder holding package.json). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of a built file under `dist/`; throws a clear error when it was not built. */
export function builtFile(relative: string): string {
  const file = path.join(PACKAGE_ROOT, 'dist', relative);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
  return file;
}
