/**
 * Errors of the executor: what crosses the task-thread boundary and what the function handler
 * throws back to the host. The Node worker reports a thrown `undefined` or `null` as success
 * (it only fails an invocation when the error is not null/undefined), so the handler only ever
 * throws `Error` objects made by `coerceError`.
 */
import { coerceError, isRetryable, StratusError } from '../contract/errors.js';
import type { TaskError } from '../contract/protocol.js';

/** A task error as it crosses threads and lands in a `task-failed` event. */
export interface SerializedTaskError extends TaskError {
  /** False when retrying cannot help (`isRetryable` of the error): the driver fails the stage at once. */
  retryable: boolean;
}

/**
 * Thrown by a work kind (or the runner) when retrying the task cannot help: a bad message,
 * descriptor or bundle, a builder that does not rebuild. Not retryable, by definition.
 */
export class NonRetryableTaskError extends StratusError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('TASK_NOT_RETRYABLE', message, {}, { ...options, retryable: false });
    this.name = 'NonRetryableTaskError';
  }
}

/** The code of BlobTamperedError, as it crosses the task-thread boundary. */
export const BLOB_TAMPERED = 'BLOB_TAMPERED';

/**
 * A blob the task message pins by hash — the stage descriptor, or a broadcast value or
 * map-output table the descriptor pins — does not hash to it: something altered it after the
 * driver wrote it. Found before any code of the job is loaded; the runner quarantines the
 * message with a security log line and answers `task-rejected` (reason `tampered-blob`). Not
 * retryable: a retry reads the same altered bytes.
 */
export class BlobTamperedError extends StratusError {
  constructor(message: string, blob: string) {
    super(BLOB_TAMPERED, message, { blob });
    this.name = 'BlobTamperedError';
  }
}

/**
 * Thrown to the host after a task attempt failed and its `task-failed` event was sent; as
 * retryable as the task's own error.
 */
export class TaskAttemptFailedError extends StratusError {
  constructor(attemptId: string, cause: SerializedTaskError) {
    super(
      'TASK_FAILED',
      `task ${attemptId} failed: ${cause.name}: ${cause.message}`,
      {},
      { retryable: cause.retryable },
    );
    this.name = 'TaskAttemptFailedError';
    if (cause.stack !== undefined)
      this.stack = `${this.name}: ${this.message}\n--- task error ---\n${cause.stack}`;
  }
}

/**
 * Describe a thrown value for a `task-failed` event. Its stack is the user's own when the error
 * came from user code (UserCodeError keeps it), else the error's with the stacks of its causes.
 */
export function serializeTaskError(thrown: unknown): SerializedTaskError {
  const error = coerceError(thrown);
  const code = (error as { code?: unknown }).code;
  const out: SerializedTaskError = {
    name: error.name,
    message: error.message,
    retryable: isRetryable(error),
  };
  const userStack = error instanceof StratusError ? error.context.userStack : undefined;
  if (userStack !== undefined) out.stack = userStack;
  else if (error.stack !== undefined) {
    out.stack = error.stack;
    // A wrapped error (NonRetryableTaskError and the like): the cause's stack says where it began.
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.stack !== undefined) out.stack += `\nCaused by: ${cause.stack}`;
  }
  if (typeof code === 'string') out.code = code;
  if (error instanceof StratusError && error.context.shuffleId !== undefined)
    out.shuffleId = error.context.shuffleId;
  return out;
}
