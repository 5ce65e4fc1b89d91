/**
 * Errors a user can cause. Each has a stable `code` so scripts and tests can branch on it,
 * and carries the context a user needs to find the cause (job, stage, partition, blob…).
 */
export interface ErrorContext {
  /** The driver application the error happened in. */
  appId?: string;
  /** The job (one action's run) that failed. */
  jobId?: number;
  /** The stage whose task failed. */
  stageId?: number;
  /** The partition the failing task worked on. */
  partition?: number;
  /** The task attempt (0 for the first). */
  attempt?: number;
  /** The blob the error is about (an input, an output, a shuffle segment). */
  blob?: string;
  /** The queue the error is about. */
  queue?: string;
  /** The option, flag or param at fault (`params.records`). */
  field?: string;
  /** The user's own stack trace when the error came from user code on an executor. */
  userStack?: string;
}

/** Base class of every error a user can cause; `code` is stable across versions. */
export class StratusError extends Error {
  /** What went wrong, as a stable upper-case identifier (`JOB_FAILED`, `INVALID_KEY`…) to branch on. */
  readonly code: string;
  /** Where it went wrong: job, stage, partition, attempt, blob… as far as known. */
  readonly context: ErrorContext;

  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StratusError';
    this.code = code;
    this.context = context;
  }
}

/** A queue message or blob that does not match the protocol (wrong shape, wrong version, bad encoding). */
export class ProtocolError extends StratusError {
  constructor(message: string, context: ErrorContext = {}) {
    super('PROTOCOL', message, context);
    this.name = 'ProtocolError';
  }
}

/** A job failed: a task kept failing, its message was poisoned, or the plan could not be built. */
export class JobFailedError extends StratusError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('JOB_FAILED', message, context, options);
    this.name = 'JobFailedError';
  }
}

/** Invalid configuration or arguments given by the user (CLI flags, options, params). */
export class ConfigError extends StratusError {
  constructor(message: string, context: ErrorContext = {}) {
    super('CONFIG', message, context);
    this.name = 'ConfigError';
  }
}

/** Describe `ctx` as ` (job 3, stage 5, partition 2)` for error messages; empty when there is none. */
export function describeContext(ctx: ErrorContext): string {
  const parts: string[] = [];
  if (ctx.appId !== undefined) parts.push(`app ${ctx.appId}`);
  if (ctx.jobId !== undefined) parts.push(`job ${ctx.jobId}`);
  if (ctx.stageId !== undefined) parts.push(`stage ${ctx.stageId}`);
  if (ctx.partition !== undefined) parts.push(`partition ${ctx.partition}`);
  if (ctx.attempt !== undefined) parts.push(`attempt ${ctx.attempt}`);
  if (ctx.blob !== undefined) parts.push(`blob ${ctx.blob}`);
  if (ctx.queue !== undefined) parts.push(`queue ${ctx.queue}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** User code (a closure given to a dataset operation) threw while a task ran it. */
export class UserCodeError extends StratusError {
  constructor(operation: string, error: unknown, context: ErrorContext = {}) {
    const message = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error ? error.stack : undefined;
    super('USER_CODE', `${operation} threw: ${message}`, stack ? { ...context, userStack: stack } : context, {
      cause: error,
    });
    this.name = 'UserCodeError';
  }
}

/** An action that needs at least one record (first, reduce) ran on an empty dataset. */
export class EmptyCollectionError extends StratusError {
  constructor(action: string) {
    super('EMPTY_COLLECTION', `${action}: empty collection`);
    this.name = 'EmptyCollectionError';
  }
}

/** Wrap what user code threw so it names the operation; StratusErrors pass through unchanged. */
export function asUserCodeError(operation: string, error: unknown): StratusError {
  return error instanceof StratusError ? error : new UserCodeError(operation, error);
}
