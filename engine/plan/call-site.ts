/**
 * Call sites of dataset operations, as Spark names an RDD by its creation site (`map at
 * Sales.scala:8`): the line of the user's job module that called `map`, `reduceByKey`… It is
 * read from the stack of an Error made when the graph node is added, and it is a label only:
 * it never enters the graph's fingerprint or anything a task computes, so the driver and the
 * executors still build the same graph wherever the module's file lies. With source maps
 * enabled (the driver enables them before building a graph; task threads always do), the frame
 * of a bundled module names the original `.ts` file and line.
 */

import { findSourceMap } from 'node:module';
import { pathToFileURL } from 'node:url';

/** One stack frame's location: `at fn (file:line:col)` or `at file:line:col`. */
const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):\d+\)?$/;

/** The engine's own folder (the parent of plan/): frames inside it are the Dataset API, not the user. */
const ENGINE_DIR = new URL('..', import.meta.url).pathname;

/** `sales.ts`: the last path segment of a file path or URL (query and hash dropped). */
function baseName(file: string): string {
  const plain = file.replace(/[?#].*$/, '');
  return plain.slice(plain.lastIndexOf('/') + 1);
}

/**
 * The user's call site in `stack` (an `Error().stack`): `file:line` of the first frame that is
 * neither in the engine (`engineDir`, or `stratus:` in the packaged executor) nor in Node's
 * internals, or undefined when there is none.
 */
export function callSiteFromStack(stack: string | undefined, engineDir = ENGINE_DIR): string | undefined {
  if (!stack) return undefined;
  for (const line of stack.split('\n').slice(1)) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const file = match[1]!;
    if (isEngineOrNode(file, engineDir)) continue;
    const name = baseName(asPath(file));
    if (name === '') continue;
    return `${name}:${match[2]}`;
  }
  return undefined;
}

/** The frames of the stack below `below`, as V8 records them: unformatted, no source map read. */
function rawFrames(below: (...args: never[]) => unknown): NodeJS.CallSite[] {
  const prepare = Error.prepareStackTrace;
  Error.prepareStackTrace = (_error, frames) => frames;
  try {
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, below);
    return Array.isArray(holder.stack) ? (holder.stack as NodeJS.CallSite[]) : [];
  } finally {
    Error.prepareStackTrace = prepare;
  }
}

/** A file name or file: URL as a path (`node:…`, `stratus:…` stay as they are). */
function asPath(file: string): string {
  return file.startsWith('file://') ? new URL(file).pathname : file;
}

/**
 * A frame of the engine or of Node. The engine's frames are in `engineDir`, or — when Node maps
 * the built engine's frames through its maps (a driver run with `--enable-source-maps`) — in
 * the sources the maps name (`<package>/engine/` for `<package>/dist/engine/`); `stratus:…` are
 * the packaged executor's own frames (infra/scripts/package-function.mjs).
 */
function isEngineOrNode(file: string, engineDir: string): boolean {
  const filePath = asPath(file);
  return (
    filePath.startsWith(engineDir) ||
    filePath.startsWith(engineDir.replace(/\/dist\/engine\/$/, '/engine/')) ||
    /^(?:node|stratus):/.test(file) ||
    !filePath.includes('/')
  );
}

/** Returned by quickCallSite when only the formatted stack can tell. */
const ASK_THE_STACK = Symbol('ask the stack');

/**
 * The call site from the raw frames: frames in the engine are skipped by the file they run in,
 * and only the user's frame is looked up in its module's source map. Formatting the whole stack
 * instead maps every frame, and the engine's first frame in a packaged task thread makes Node
 * decode the thread bundle's whole map (hundreds of ms, once per thread). Gives up, for the
 * formatted stack, when the user's frame has no source map Node knows (a test runner's loader).
 */
function quickCallSite(engineDir: string): string | undefined | typeof ASK_THE_STACK {
  for (const frame of rawFrames(currentCallSite)) {
    const file = frame.getFileName();
    if (!file || isEngineOrNode(file, engineDir)) continue;
    const line = frame.getLineNumber();
    const column = frame.getColumnNumber();
    const map =
      findSourceMap(file) ??
      (file.startsWith('file://') ? undefined : findSourceMap(pathToFileURL(file).href));
    if (!map || line === null || column === null) return ASK_THE_STACK;
    const entry = map.findEntry(line - 1, column - 1);
    if (!('originalSource' in entry) || !entry.originalSource) return ASK_THE_STACK;
    if (isEngineOrNode(entry.originalSource, engineDir)) continue;
    const name = baseName(asPath(entry.originalSource));
    if (name === '') continue;
    return `${name}:${entry.originalLine + 1}`;
  }
  return undefined;
}

/** The call site of the dataset operation being added now (see callSiteFromStack). */
export function currentCallSite(): string | undefined {
  const quick = quickCallSite(ENGINE_DIR);
  return quick === ASK_THE_STACK ? callSiteFromStack(new Error().stack) : quick;
}

/** `map at sales.ts:8` when the call site is known, else `map (node 3)`: how plans and the UI name an operator. */
/** A job's action as Spark names jobs: `collect at wordcount.ts:12`, or the bare op without a call site. */
export function actionLabel(job: { action: string; callSite?: string | undefined }): string {
  return job.callSite !== undefined ? `${job.action} at ${job.callSite}` : job.action;
}

export function operatorLabel(node: { op: string; id: number; callSite?: string | undefined }): string {
  return node.callSite !== undefined ? `${node.op} at ${node.callSite}` : `${node.op} (node ${node.id})`;
}
