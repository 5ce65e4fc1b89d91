/**
 * The bundler's memory, content-addressed: a bundle is reused only while every file its build
 * read — the module, what it imports, bundled dependencies — still has the same sha256, and
 * the build settings (esbuild version, the engine shim) are the same. So running a job again,
 * from a new `stratus run` or the next `driver.run` of a driver script, skips esbuild entirely,
 * and any edit to any input builds afresh. Entries live in memory and on disk (default
 * `.stratus/bundle-cache` under the working folder, as the type check's cache;
 * STRATUS_BUNDLE_CACHE_DIR moves it), as
 * `<key>.json` (the inputs' hashes and the code's hash) next to `<codeHash>.mjs`; the code is
 * checked against its hash when read. The cache is an optimisation: any disk error is a miss.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where bundles are kept by default: beside the event logs, in the working folder's `.stratus/`. */
export const DEFAULT_BUNDLE_CACHE_DIR = path.join('.stratus', 'bundle-cache');

/** Options of a BundleCache. */
export interface BundleCacheOptions {
  /** Folder of the on-disk entries; relative to the working folder; default STRATUS_BUNDLE_CACHE_DIR, else DEFAULT_BUNDLE_CACHE_DIR. */
  dir?: string;
  /** Keep entries on disk (default true); false keeps them in this process only. */
  persist?: boolean;
}

/** One cached build: each input's sha256, and the bundle. */
interface Entry {
  v: 1;
  files: Record<string, string>;
  codeHash: string;
}

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A cached bundle. */
export interface CachedBundle {
  code: string;
  codeHash: string;
}

/** Bundles by content of their inputs, in memory and (by default) on disk. */
export class BundleCache {
  private readonly memory = new Map<string, { entry: Entry; code: string }>();
  private readonly dir: string;
  private readonly persist: boolean;
  /** Lookups answered from the cache, and builds stored (for tests and the bench). */
  hits = 0;
  misses = 0;

  constructor(options: BundleCacheOptions = {}) {
    this.dir = path.resolve(
      options.dir ?? (process.env.STRATUS_BUNDLE_CACHE_DIR || DEFAULT_BUNDLE_CACHE_DIR),
    );
    this.persist = options.persist !== false;
  }

  private key(entryFile: string, settings: string): string {
    return sha256(`${entryFile}\n${settings}`);
  }

  /** The bundle of `entryFile` built with `settings`, if every input still hashes as when it was built. */
  lookup(entryFile: string, settings: string): CachedBundle | undefined {
    const key = this.key(entryFile, settings);
    const found = this.memory.get(key) ?? this.readDisk(key);
    if (found && unchanged(found.entry)) {
      this.memory.set(key, found);
      this.hits++;
      return { code: found.code, codeHash: found.entry.codeHash };
    }
    this.misses++;
    return undefined;
  }

  /**
   * Remember a build that started at `builtFrom` (ms since epoch, sub-ms precision): `inputs` are
   * the files it read (absolute paths), hashed now. An input modified since the build started may
   * hold bytes the build did not read, so such a build is not remembered (the next run builds).
   */
  store(
    entryFile: string,
    settings: string,
    inputs: readonly string[],
    bundle: CachedBundle,
    builtFrom: number,
  ): void {
    const files: Record<string, string> = {};
    for (const file of inputs) {
      let modified: number;
      try {
        modified = statSync(file).mtimeMs;
      } catch {
        return; // an input vanished: do not remember this build
      }
      const hash = hashFile(file);
      if (hash === undefined || modified >= builtFrom) return;
      files[file] = hash;
    }
    const entry: Entry = { v: 1, files, codeHash: bundle.codeHash };
    const key = this.key(entryFile, settings);
    this.memory.set(key, { entry, code: bundle.code });
    if (!this.persist) return;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeAtomically(path.join(this.dir, `${bundle.codeHash}.mjs`), bundle.code);
      writeAtomically(path.join(this.dir, `${key}.json`), JSON.stringify(entry));
    } catch {
      // A read-only or full disk: the cache is an optimisation, the run goes on without it.
    }
  }

  private readDisk(key: string): { entry: Entry; code: string } | undefined {
    if (!this.persist) return undefined;
    try {
      const entry = JSON.parse(readFileSync(path.join(this.dir, `${key}.json`), 'utf8')) as Entry;
      if (entry.v !== 1 || typeof entry.codeHash !== 'string') return undefined;
      const code = readFileSync(path.join(this.dir, `${entry.codeHash}.mjs`), 'utf8');
      // The name is the content's hash: a truncated or edited file is a miss, never a wrong bundle.
      if (sha256(code) !== entry.codeHash) return undefined;
      return { entry, code };
    } catch {
      return undefined; // no entry (or an unreadable one): build
    }
  }
}

function hashFile(file: string): string | undefined {
  try {
    return sha256(readFileSync(file));
  } catch {
    return undefined;
  }
}

function unchanged(entry: Entry): boolean {
  for (const [file, hash] of Object.entries(entry.files)) if (hashFile(file) !== hash) return false;
  return true;
}

function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}
