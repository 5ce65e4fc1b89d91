/**
 * Call sites of dataset operations, as Spark names an RDD by its creation site (`map at
 * Sales.scala:8`): the line of the user's job module that called `map`, `reduceByKey`… It is
 * read from the stack of an Error made when the graph node is added, and it is a label only:
 * it never enters the graph's fingerprint or anything a task computes, so the driver and the
 * executors still build the same graph wherever the module's file lies. With source maps
 * enabled (the driver enables them before building a graph; task threads always do), the frame
 * of a bundled module names the original `.ts` file and line.
 */

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
    const filePath = file.startsWith('file://') ? new URL(file).pathname : file;
    // `stratus:…`: the packaged executor's own frames (infra/scripts/package-function.mjs).
    if (filePath.startsWith(engineDir) || /^(?:node|stratus):/.test(file) || !filePath.includes('/'))
      continue;
    const name = baseName(filePath);
    if (name === '') continue;
    return `${name}:${match[2]}`;
  }
  return undefined;
}

/** The call site of the dataset operation being added now (see callSiteFromStack). */
export function currentCallSite(): string | undefined {
  return callSiteFromStack(new Error().stack);
}

/** `map at sales.ts:8` when the call site is known, else `map (node 3)`: how plans and the UI name an operator. */
/** A job's action as Spark names jobs: `collect at wordcount.ts:12`, or the bare op without a call site. */
export function actionLabel(job: { action: string; callSite?: string | undefined }): string {
  return job.callSite !== undefined ? `${job.action} at ${job.callSite}` : job.action;
}

export function operatorLabel(node: { op: string; id: number; callSite?: string | undefined }): string {
  return node.callSite !== undefined ? `${node.op} at ${node.callSite}` : `${node.op} (node ${node.id})`;
}
