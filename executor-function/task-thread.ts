/**
 * Entry point of a task thread (a `worker_threads` Worker of the TaskThreadPool). It runs one task
 * at a time: loads the work kind, builds the TaskContext, and posts back the outcome or the
 * serialized error. CPU-bound work here does not block the main thread, which keeps serving the
 * trigger, heartbeats and lease renewals.
 */
import { parentPort } from 'node:worker_threads';
import { type TaskExecution, taskExecutionId } from '../contract/names.js';
import { parseTaskMessage, taskAttemptId } from '../contract/protocol.js';
import { BlobStore } from '../storage/blob-store.js';
import { TaskInterruptedError } from './executor-shutdown.js';
import { connectFromSetting } from './storage-binding.js';
import { serializeTaskError } from './task-errors.js';
import type { TaskThreadReply, TaskThreadRequest } from './task-thread-protocol.js';
import { ThreadBlocks } from './thread-blocks.js';
import type { TaskContext } from './work-kind-runner.js';
import { loadWorkKind } from './work-kinds.js';

// The pool's bootstrap (worker-pool.ts) turned source maps on before this file was compiled, so
// its frames name executor-function/*.ts; a thread started on this file directly still gets the
// job bundles' inline maps, which name the user's own files and lines.
process.setSourceMapsEnabled(true);

const aborts = new Map<number, AbortController>();
let blobStore: BlobStore | undefined;

/** One BlobStore per thread, built when a task first needs it (noop tasks never do). */
function blobs(): BlobStore {
  blobStore ??= new BlobStore(connectFromSetting(process.env));
  return blobStore;
}

async function runOne(request: Extract<TaskThreadRequest, { type: 'run' }>): Promise<TaskThreadReply> {
  const abort = new AbortController();
  aborts.set(request.id, abort);
  // The pool's abort message reaches the signal only when this thread turns its event loop; the
  // shared flag is seen at once, by whoever asks (the pipeline, between record batches).
  const throwIfInterrupted = () => {
    if (!abort.signal.aborted && Atomics.load(request.interrupt, 0) !== 0)
      abort.abort(new TaskInterruptedError());
    abort.signal.throwIfAborted();
  };
  try {
    if (Atomics.load(request.interrupt, 0) !== 0) abort.abort(new TaskInterruptedError());
    const message = parseTaskMessage(request.message);
    const attemptId = taskAttemptId(message);
    const execution: TaskExecution = {
      attempt: message.attempt,
      dequeueCount: request.dequeueCount,
      nonce: request.nonce,
    };
    const executionId = taskExecutionId(message, execution);
    const blocks = new ThreadBlocks(request.blocks, request.tempDir);
    const context: TaskContext = {
      message,
      attemptId,
      execution,
      executionId,
      executorId: request.executorId,
      slot: request.slot,
      dequeueCount: request.dequeueCount,
      get blobs(): BlobStore {
        return blobs();
      },
      signal: abort.signal,
      throwIfInterrupted,
      tempDir: request.tempDir,
      blocks,
      // To the main thread, which writes it to the invocation's log (redacted there, with the
      // task's ids); the thread's own stderr is not tied to any invocation on Azure.
      log: (line) =>
        port.postMessage({
          type: 'log',
          id: request.id,
          line: `slot ${request.slot} ${executionId}: ${line}`,
        } satisfies TaskThreadReply),
    };
    const run = await loadWorkKind(message.work);
    const outcome = await run(message.work, context);
    const changes = blocks.collect();
    return { type: 'done', id: request.id, outcome, ...(changes ? { blocks: changes } : {}) };
  } catch (error) {
    return { type: 'failed', id: request.id, error: serializeTaskError(error) };
  } finally {
    aborts.delete(request.id);
  }
}

if (!parentPort) throw new Error('task-thread.js must run as a worker thread');
const port = parentPort;
port.on('message', (request: TaskThreadRequest) => {
  if (request.type === 'abort') {
    aborts.get(request.id)?.abort(new TaskInterruptedError());
    return;
  }
  void runOne(request).then((reply) => port.postMessage(reply));
});
