/**
 * Loads a bundled job module (see driver/bundler.ts) in the current process: writes it to
 * a per-process cache directory named by its hash and imports it once. Driver and
 * executors both load bundles this way, so both build the graph from the same code.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { StratusError } from './errors.js';
import * as engineApi from './index.js';
import type { JobDefinition } from './job.js';

const ENGINE_GLOBAL = '__stratusEngine';
const loaded = new Map<string, Promise<JobDefinition>>();

/** Where bundles are cached on this machine (`STRATUS_CODE_CACHE` overrides). */
export function codeCacheDir(): string {
  return process.env.STRATUS_CODE_CACHE ?? path.join(os.tmpdir(), 'stratus-code-cache');
}

function isJobDefinition(value: unknown): value is JobDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'stratus-job';
}

/**
 * Import the bundle `code` (named `codeHash`) and return its default-exported job definition.
 * Cached per process by hash. Throws a StratusError when the module does not export `defineJob(...)`.
 */
export function loadJobBundle(
  codeHash: string,
  code: string | (() => Promise<string>),
): Promise<JobDefinition> {
  let pending = loaded.get(codeHash);
  if (!pending) {
    pending = (async () => {
      (globalThis as Record<string, unknown>)[ENGINE_GLOBAL] = engineApi;
      const text = typeof code === 'string' ? code : await code();
      const dir = codeCacheDir();
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${codeHash}.mjs`);
      // Executor processes and threads share the folder: write a private file and rename it
      // into place, so no importer ever sees a half-written bundle.
      if (!existsSync(file)) {
        const temp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
        writeFileSync(temp, text);
        renameSync(temp, file);
      }
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
