/**
 * Node's compile cache for the processes and threads stratus starts: V8's compiled code of the
 * modules they load, kept on disk so the next start skips compiling them (Node checks each entry
 * against the file it came from, so changed code is compiled again). Used by task threads (the
 * 4 MB thread bundle) and by the local fabric's children (Azurite, executor hosts).
 */
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The cache folder: NODE_COMPILE_CACHE when set, else `stratus-compile-cache` in the temp folder;
 * undefined when `STRATUS_COMPILE_CACHE=0` turns it off.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.STRATUS_COMPILE_CACHE === '0') return undefined;
  return env.NODE_COMPILE_CACHE || path.join(tmpdir(), 'stratus-compile-cache');
}

/** `env` for a Node child process, with NODE_COMPILE_CACHE set to compileCacheDir(env) when it is on. */
export function withCompileCache(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const dir = compileCacheDir(env);
  return dir === undefined ? env : { ...env, NODE_COMPILE_CACHE: dir };
}
