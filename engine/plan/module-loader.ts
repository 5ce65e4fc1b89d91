/**
 * Loads a bundled job module (see driver/app/bundler.ts) in the current process. Bundles are
 * content-addressed: `codeHash` is the sha256 (hex) of the bundle's UTF-8 text. A bundle is
 * written once per machine into a shared cache folder named by its hash and imported once per
 * thread. Driver and executors both load bundles this way, so both build the graph from the
 * same code.
 *
 * The cache folder is looked at before the bundle is fetched: every task thread of an
 * executor instance shares it, so an instance downloads each bundle once, not once per
 * thread. A cached file is used only when its bytes still hash to its name.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { StratusError } from '../../contract/errors.js';
import type { JobDefinition } from '../dataset/job.js';
import * as engineApi from '../index.js';

const ENGINE_GLOBAL = '__stratusEngine';
const loaded = new Map<string, Promise<JobDefinition>>();

/** Where bundles are cached on this machine (`STRATUS_CODE_CACHE` overrides). */
export function codeCacheDir(): string {
  return process.env.STRATUS_CODE_CACHE ?? path.join(os.tmpdir(), 'stratus-code-cache');
}

function isJobDefinition(value: unknown): value is JobDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'stratus-job';
}

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** True when `file` exists and its bytes hash to `codeHash` (a missing, partial or altered file is not a hit). */
function cachedCopyMatches(file: string, codeHash: string): boolean {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return false;
  }
  return sha256(bytes) === codeHash;
}

/**
 * Import the bundle named `codeHash` and return its default-exported job definition. `code` is
 * the bundle's text, or a function that fetches it, called only when this machine's cache
 * folder has no valid copy. Cached per thread by hash. Throws a StratusError
 * (BUNDLE_HASH_MISMATCH) when the fetched text does not hash to `codeHash`, and
 * (JOB_MODULE_INVALID) when the module does not export `defineJob(...)`.
 */
export function loadJobBundle(
  codeHash: string,
  code: string | (() => Promise<string>),
): Promise<JobDefinition> {
  let pending = loaded.get(codeHash);
  if (!pending) {
    pending = (async () => {
      (globalThis as Record<string, unknown>)[ENGINE_GLOBAL] = engineApi;
      const dir = codeCacheDir();
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${codeHash}.mjs`);
      if (!cachedCopyMatches(file, codeHash)) {
        const text = typeof code === 'string' ? code : await code();
        if (sha256(text) !== codeHash) {
          throw new StratusError(
            'BUNDLE_HASH_MISMATCH',
            `job bundle ${codeHash.slice(0, 12)} does not match its hash; refusing to load it`,
          );
        }
        // Executor processes and threads share the folder: write a private file and rename it
        // into place (replacing an altered copy), so no importer ever sees a half-written bundle.
        const temp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
        writeFileSync(temp, text);
        renameSync(temp, file);
      }
      // Source maps are attached when a module is compiled, so they must be on before the first
      // import of a bundle (a later load reuses this module): its inline map then names the
      // user's .ts lines in call sites (`map at sales.ts:8`) and stack traces.
      process.setSourceMapsEnabled(true);
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      if (!isJobDefinition(mod.default)) {
        throw new StratusError(
          'JOB_MODULE_INVALID',
          `job module ${codeHash.slice(0, 12)} must default-export defineJob((ctx, params) => …)`,
        );
      }
      return mod.default;
    })();
    pending.catch(() => loaded.delete(codeHash));
    loaded.set(codeHash, pending);
  }
  return pending;
}
