/**
 * TaskThreadPool: the task threads of one executor. Node runs JavaScript on one thread, so each
 * slot's task body runs in its own `worker_threads` Worker; the main thread only serves the
 * trigger, events and leases. The pool holds at most `size` threads (the slot count), starts
 * them on demand, runs one task per thread at a time and queues any excess. A run can be
 * killed: its thread is terminated (V8 stops it even inside a busy loop) and a new thread
 * takes its place on demand, so the slot's CPU and memory are free once the run resolves.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { compileCacheDir } from '../contract/compile-cache.js';
import { redactSecrets } from '../contract/redaction.js';
import type { SerializedTaskError } from './task-errors.js';
import type { TaskRunRequest, TaskThreadReply, TaskThreadRequest } from './task-thread-protocol.js';
import type { BlockChanges } from './thread-blocks.js';
import type { TaskOutcome } from './work-kind-runner.js';

/**
 * The result of one task run: the work kind's outcome (and the persisted blocks it stored or
 * released, for the executor's block manager), its serialized error, or killed before it ended.
 */
export type TaskRunResult =
  | { status: 'succeeded'; outcome: TaskOutcome; blocks?: BlockChanges }
  | { status: 'failed'; error: SerializedTaskError }
  | { status: 'killed' };

interface Run {
  id: number;
  request: TaskRunRequest;
  resolve: (result: TaskRunResult) => void;
  /** Where the task's TaskContext.log lines go (the invocation's log). */
  log: ((line: string) => void) | undefined;
  /** Shared with the run's thread: 1 once the run must stop (see TaskThreadRequest). */
  interrupt: Int32Array;
}

const KILLED: TaskRunResult = { status: 'killed' };

/**
 * Whether Node loads `file` as CommonJS: `.cjs`, or `.js` under a package.json whose `type` is
 * not `module` — the packaged function app's task-thread.js is, dist/'s ES modules are not.
 */
export function isCommonJsFile(file: string): boolean {
  if (file.endsWith('.cjs')) return true;
  if (file.endsWith('.mjs')) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      const { type } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { type?: unknown };
      return type !== 'module';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (path.dirname(dir) === dir) return true;
  }
}

/** Where the task-thread entry lives: next to this module, both in `dist/` and in the function bundle. */
export function defaultTaskThreadEntry(): URL {
  return new URL('./task-thread.js', import.meta.url);
}

/**
 * The code a task thread starts with: it turns source maps on, then loads `entry`. Node reads a
 * file's source map when it compiles the file, and only if source maps are on at that moment; the
 * task-thread entry is one bundle, compiled before its first statement could turn them on, so its
 * own frames (executor-function/*.ts, engine/*.ts) would stay `task-thread.js:<line>`. Job
 * bundles are imported later and were mapped either way. The Functions host starts the Node
 * worker with arguments we do not choose, so the thread does it rather than `--enable-source-maps`.
 */
export function taskThreadBootstrap(
  entry: URL,
  commonJs = isCommonJsFile(fileURLToPath(entry)),
  compileCache = compileCacheDir(),
): string {
  // A CommonJS entry is required, not imported: import() of CommonJS runs Node's export lexer
  // over the whole file first (the packaged task-thread bundle is 4 MB: ~100 ms per thread).
  const load = commonJs
    ? `Promise.resolve(require(${JSON.stringify(fileURLToPath(entry))}))`
    : `import(${JSON.stringify(entry.href)})`;
  // V8's compiled code for the entry, kept on disk by Node: the instance's later threads (and
  // instances sharing the disk) skip compiling the bundle again. Node checks each cached entry
  // against the file's content; a cache it cannot write is only slower, never an error.
  const cache =
    compileCache === undefined
      ? ''
      : `try { require('node:module').enableCompileCache?.(${JSON.stringify(compileCache)}); } catch {}\n`;
  const flush = compileCache === undefined ? '' : `.then(() => require('node:module').flushCompileCache?.())`;
  return `${cache}process.setSourceMapsEnabled(true);\n${load}${flush};\n`;
}

/** A bounded pool of task threads; one task per thread at a time. */
export class TaskThreadPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Run>();
  /** Threads being terminated, with the killed run each resolves when it has exited. */
  private readonly terminating = new Map<Worker, Run>();
  private readonly waiting: Run[] = [];
  private nextId = 1;
  private closed = false;
  /** The threads' start code, made at the first thread (it reads the entry's package.json). */
  private bootstrap: string | undefined;
  /** Set by abortAll: a run that starts afterwards is interrupted from its start. */
  private aborting = false;

  /** @param size most threads at once (the executor's slot count); @param entry the task-thread script. */
  constructor(
    readonly size: number,
    private readonly entry: URL = defaultTaskThreadEntry(),
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`TaskThreadPool size must be ≥ 1, got ${size}`);
  }

  /** Threads currently started (idle, busy or still being terminated). */
  get threadCount(): number {
    return this.idle.length + this.busy.size + this.terminating.size;
  }

  /** Threads terminated because their run was killed. */
  threadsTerminated = 0;

  /**
   * Start up to `count` threads (at most the pool's size) before any run needs them: each loads
   * its entry, then waits idle. A run given to a thread still loading waits for it there.
   */
  prewarm(count = this.size): void {
    while (!this.closed && this.threadCount < Math.min(count, this.size)) {
      const worker = this.startThread();
      worker.unref();
      this.idle.push(worker);
    }
  }

  /**
   * Run one task in a thread; never rejects (a thread crash becomes a failed result). When
   * `kill` aborts, the run resolves `killed` — once its thread has exited, if it had one. The
   * task's own log lines (TaskContext.log) are handed to `log` as they come.
   */
  run(request: TaskRunRequest, kill?: AbortSignal, log?: (line: string) => void): Promise<TaskRunResult> {
    if (this.closed) return Promise.resolve(crashed('the task thread pool is closed'));
    if (kill?.aborted) return Promise.resolve(KILLED);
    return new Promise((resolve) => {
      const interrupt = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
      // The executor began shutting down between taking this task and starting it.
      if (this.aborting) Atomics.store(interrupt, 0, 1);
      const run: Run = { id: this.nextId++, request, resolve, log, interrupt };
      kill?.addEventListener('abort', () => this.kill(run), { once: true });
      this.waiting.push(run);
      this.dispatch();
    });
  }

  /** Stop `run`: drop it if still queued, else terminate its thread. */
  private kill(run: Run): void {
    const queued = this.waiting.indexOf(run);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      run.resolve(KILLED);
      return;
    }
    for (const [worker, busyRun] of this.busy) {
      if (busyRun !== run) continue;
      // From now on the thread's messages are ignored and it never returns to the idle list.
      this.busy.delete(worker);
      this.terminating.set(worker, run);
      this.threadsTerminated++;
      void worker.terminate();
      return;
    }
    // Not found: the run already ended; its result stands.
  }

  /**
   * Ask every running task to stop early: its signal aborts when its thread next turns its event
   * loop, and its `throwIfInterrupted` throws at once (the shared flag), so a CPU-bound stage task
   * stops at its next record batch. Queued runs, and runs started from now on, start interrupted.
   */
  abortAll(): void {
    this.aborting = true;
    for (const run of this.waiting) Atomics.store(run.interrupt, 0, 1);
    for (const [worker, run] of this.busy) {
      Atomics.store(run.interrupt, 0, 1);
      worker.postMessage({ type: 'abort', id: run.id } satisfies TaskThreadRequest);
    }
  }

  /** Stop accepting work, fail queued runs, wait for running ones, then end every thread. */
  async close(): Promise<void> {
    this.closed = true;
    for (const run of this.waiting.splice(0))
      run.resolve(crashed('the task thread pool closed before the task ran'));
    while (this.busy.size > 0 || this.terminating.size > 0) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(this.idle.splice(0).map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const worker = this.idle.pop() ?? (this.threadCount < this.size ? this.startThread() : undefined);
      if (!worker) return;
      const run = this.waiting.shift()!;
      this.busy.set(worker, run);
      // A busy thread keeps the process alive; an idle one must not.
      worker.ref();
      worker.postMessage({
        type: 'run',
        id: run.id,
        ...run.request,
        interrupt: run.interrupt,
      } satisfies TaskThreadRequest);
    }
  }

  private startThread(): Worker {
    // The thread's stdout and stderr (user code's console, task log lines) reach the process's
    // own streams only through redaction, line by line.
    // An entry that fails to import rejects inside the thread: an unhandled rejection, which ends
    // the thread with an 'error' event like a throwing entry file would.
    this.bootstrap ??= taskThreadBootstrap(this.entry);
    const worker = new Worker(this.bootstrap, { eval: true, stdout: true, stderr: true });
    forwardRedacted(worker.stdout, process.stdout);
    forwardRedacted(worker.stderr, process.stderr);
    worker.on('message', (reply: TaskThreadReply) => {
      const run = this.busy.get(worker);
      if (!run || run.id !== reply.id) return; // a reply for a run we already gave up on
      if (reply.type === 'log') {
        run.log?.(reply.line);
        return;
      }
      this.busy.delete(worker);
      worker.unref();
      this.idle.push(worker);
      run.resolve(
        reply.type === 'done'
          ? { status: 'succeeded', outcome: reply.outcome, ...(reply.blocks ? { blocks: reply.blocks } : {}) }
          : { status: 'failed', error: reply.error },
      );
      this.dispatch();
    });
    const lost = (why: string) => {
      const killed = this.terminating.get(worker);
      if (killed) {
        // The thread we terminated has exited: its slot's thread is free for the next run.
        this.terminating.delete(worker);
        killed.resolve(KILLED);
        if (!this.closed) this.dispatch();
        return;
      }
      const run = this.busy.get(worker);
      this.busy.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      run?.resolve(crashed(why));
      if (!this.closed) this.dispatch();
    };
    worker.on('error', (error) => lost(`task thread crashed: ${error.stack ?? error.message}`));
    worker.on('exit', (code) => lost(`task thread exited with code ${code}`));
    return worker;
  }
}

/** Copy a thread's output stream to `to` line by line, each line redacted. */
function forwardRedacted(from: Readable, to: Writable): void {
  const lines = createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => to.write(`${redactSecrets(line)}\n`));
}

function crashed(message: string): TaskRunResult {
  return { status: 'failed', error: { name: 'TaskThreadError', message, retryable: true } };
}
