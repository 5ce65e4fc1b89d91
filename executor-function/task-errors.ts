/**
 * Errors of the executor: what crosses the task-thread boundary and what the function handler
 * throws back to the host. The Node worker reports a thrown `undefined` or `null` as success
 * (it only fails an invocation when the error is not null/undefined), so the handler only ever
 * throws `Error` objects made by `toError`.
 */
import { ProtocolError, StratusError } from '../contract/errors.js';
import type { TaskError } from '../contract/protocol.js';

/** A task error as it crosses threads and lands in a `task-failed` event. */
export interface SerializedTaskError extends TaskError {
  /** True when retrying cannot help (bad message, unknown work kind, missing code). */
  fatal: boolean;
}

/**
 * Thrown by a work kind (or the runner) when retrying the task cannot help. The host still
 * retries the message up to maxDequeueCount (that is its rule), but the driver learns at once.
 */
export class NonRetryableTaskError extends StratusError {
  readonly fatal = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super('TASK_NOT_RETRYABLE', message, {}, options);
    this.name = 'NonRetryableTaskError';
  }
}

/** The code of BlobTamperedError, as it crosses the task-thread boundary. */
export const BLOB_TAMPERED = 'BLOB_TAMPERED';

/**
 * A blob the task message pins by hash — the stage descriptor, or a broadcast value or
 * map-output table the descriptor pins — does not hash to it: something altered it after the
 * driver wrote it. Found before any code of the job is loaded; the runner quarantines the
 * message with a security log line and answers `task-rejected` (reason `tampered-blob`).
 */
export class BlobTamperedError extends StratusError {
  readonly fatal = true;

  constructor(message: string, blob: string) {
    super(BLOB_TAMPERED, message, { blob });
    this.name = 'BlobTamperedError';
  }
}

/** Thrown to the host after a task attempt failed and its `task-failed` event was sent. */
export class TaskAttemptFailedError extends StratusError {
  constructor(attemptId: string, cause: SerializedTaskError) {
    super('TASK_FAILED', `task ${attemptId} failed: ${cause.name}: ${cause.message}`);
    this.name = 'TaskAttemptFailedError';
    if (cause.stack !== undefined)
      this.stack = `${this.name}: ${this.message}\n--- task error ---\n${cause.stack}`;
  }
}

/** Turn anything thrown into an Error (never undefined/null, which the worker would count as success). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(`non-Error thrown: ${thrown === undefined ? 'undefined' : safeStringify(thrown)}`);
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Describe a thrown value for a `task-failed` event; `fatal` for protocol errors and NonRetryableTaskError. */
export function serializeTaskError(thrown: unknown): SerializedTaskError {
  const error = toError(thrown);
  const code = (error as { code?: unknown }).code;
  const out: SerializedTaskError = {
    name: error.name,
    message: error.message,
    fatal: error instanceof ProtocolError || (error as { fatal?: unknown }).fatal === true,
  };
  if (error.stack !== undefined) out.stack = error.stack;
  // A wrapped user error (UserCodeError and the like): its own stack is where the user's code is.
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.stack !== undefined) {
    out.stack = `${out.stack ?? `${error.name}: ${error.message}`}\nCaused by: ${cause.stack}`;
  }
  if (typeof code === 'string') out.code = code;
  return out;
}
