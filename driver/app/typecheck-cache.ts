/**
 * The type check's memory: a passing verdict for a module, keyed by what decides it, so running
 * the same unchanged module again skips the compiler entirely (not even loading `typescript`).
 *
 * The key names the module, its tsconfig (path and text), the compiler package it was checked
 * with and the stratus version. The entry lists every file the program read — the module, what it
 * imports, the declaration files of its packages (stratus' own among them), extended tsconfigs,
 * the compiler's package.json — with each file's sha256; it holds only while every one of them
 * still hashes the same. Only passes are remembered: a failing module is about to be edited, and
 * a failure can hinge on a file that does not exist yet (an unresolved import).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where verdicts are kept by default: beside the event logs, in the working folder's `.stratus/`. */
export const DEFAULT_TYPECHECK_CACHE_DIR = path.join('.stratus', 'typecheck-cache');

/** What decides a verdict before any file is read: the cache key's inputs. */
export interface TypeCheckKey {
  /** The module checked (absolute path). */
  module: string;
  /** The tsconfig.json used (absolute path), or undefined for stratus' defaults. */
  tsconfig: string | undefined;
  /** That tsconfig's text. */
  tsconfigText: string | undefined;
  /** The `typescript` package.json the compiler is loaded from (absolute path). */
  compiler: string;
  /** This stratus package's version. */
  stratusVersion: string;
}

/** A passing verdict as stored: every file the program read, with its sha256. */
interface CacheEntry {
  v: 1;
  files: Record<string, string>;
}

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The sha256 of a file's bytes, or undefined when it cannot be read (gone, a folder). */
function fileHash(file: string): string | undefined {
  try {
    return sha256(readFileSync(file));
  } catch {
    return undefined;
  }
}

/** A folder of passing verdicts. Reading or writing it never fails a run: at worst the check runs again. */
export class TypeCheckCache {
  /** @param dir the folder (created on first write). */
  constructor(readonly dir: string) {}

  private entryFile(key: TypeCheckKey): string {
    return path.join(this.dir, `${sha256(JSON.stringify(key))}.json`);
  }

  /** True when a pass is recorded for `key` and every file it read still has the same bytes. */
  holdsPass(key: TypeCheckKey): boolean {
    let entry: CacheEntry;
    try {
      entry = JSON.parse(readFileSync(this.entryFile(key), 'utf8')) as CacheEntry;
    } catch {
      return false; // no entry, or one cut short: a miss, and the check runs
    }
    if (entry.v !== 1 || typeof entry.files !== 'object' || entry.files === null) return false;
    const files = Object.entries(entry.files);
    return files.length > 0 && files.every(([file, hash]) => fileHash(file) === hash);
  }

  /** Record a pass for `key` over `files` (absolute paths); hashes them now. */
  recordPass(key: TypeCheckKey, files: readonly string[]): void {
    const entry: CacheEntry = { v: 1, files: {} };
    for (const file of files) {
      const hash = fileHash(file);
      if (hash === undefined) return; // a file vanished while checking: remember nothing
      entry.files[file] = hash;
    }
    const target = this.entryFile(key);
    try {
      mkdirSync(this.dir, { recursive: true });
      // Concurrent runs may record the same key: write privately, rename into place.
      const temp = `${target}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(temp, JSON.stringify(entry));
      renameSync(temp, target);
    } catch {
      // A read-only or full disk costs only the cache: the next run checks again.
    }
  }
}
