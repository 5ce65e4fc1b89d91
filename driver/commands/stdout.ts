/**
 * How the CLI writes to stdout so that a pipe of any speed gets every byte, and a reader that
 * leaves early (`stratus cat out/ | head`) stops us quietly.
 *
 * On Linux, Node writes to a pipe asynchronously: `process.stdout.write` returns before the bytes
 * reach the pipe, and a `process.exit()` right after it drops whatever the reader had not taken
 * yet (a 1.9 MB `--json` result arrived as 80–440 KB). So every command writes through
 * `writeStdout`, which resolves only once its bytes were handed to the OS (and so gives
 * backpressure to `cat` of a large output), and cli.ts awaits `flushStandardStreams` before it
 * exits.
 */

/**
 * Exit code when the reader of our stdout went away: 128 + SIGPIPE (13), what a shell reports
 * for `cat`, `seq` or `git log` killed by SIGPIPE in the same place. Node ignores SIGPIPE, so we
 * exit with the code instead of dying of the signal.
 */
export const STDOUT_CLOSED_EXIT_CODE = 141;

/** Thrown by `writeStdout` when the reader of our stdout closed it: nobody is left to read. */
export class StdoutClosedError extends Error {
  constructor(cause: unknown) {
    super('stdout was closed by its reader', { cause });
    this.name = 'StdoutClosedError';
  }
}

let stdoutClosed = false;

/** True once a write to stdout failed because its reader closed it (EPIPE). */
export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/** Errors that mean the other end of the stream is gone, not that something is broken here. */
function isReaderGone(error: NodeJS.ErrnoException): boolean {
  return error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED' || error.code === 'ECONNRESET';
}

/**
 * Listen for stdout/stderr errors once, at startup: a reader that left is recorded (stdout) or
 * ignored (stderr: nothing more can be shown to it) instead of crashing with an uncaught 'error'
 * stack trace; any other error is rethrown.
 */
export function watchStandardStreams(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (!isReaderGone(error)) throw error;
    stdoutClosed = true;
  });
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (!isReaderGone(error)) throw error;
  });
}

/**
 * Write `chunk` to stdout and resolve once the OS has it (in order with earlier writes).
 * Rejects with `StdoutClosedError` when the reader has closed the pipe; never drops bytes.
 */
export function writeStdout(chunk: string | Uint8Array): Promise<void> {
  if (stdoutClosed) return Promise.reject(new StdoutClosedError(undefined));
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (error) => {
      if (!error) return resolve();
      if (isReaderGone(error as NodeJS.ErrnoException)) {
        stdoutClosed = true;
        reject(new StdoutClosedError(error));
      } else reject(error);
    });
  });
}

/** Resolve once everything written to `stream` so far reached the OS (or the stream failed). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  // Write callbacks run in order, so an empty write's runs after every earlier write's.
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/** Wait until stdout and stderr have flushed: call before `process.exit`. */
export async function flushStandardStreams(): Promise<void> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
}
