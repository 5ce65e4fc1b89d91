/**
 * Errors a user can cause. Each has a stable `code` so scripts and tests can branch on it,
 * carries the context a user needs to find the cause (job, stage, partition, blob…), and says
 * whether a retry can help (`retryable`, Temporal's `nonRetryable` inverted): the task
 * scheduler retries a failed task up to maxFailures times only when it can.
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
  /** The shuffle the error is about (a map output a reduce task could not read). */
  shuffleId?: number;
  /** The option, flag or param at fault (`params.records`). */
  field?: string;
  /** The user's own stack trace when the error came from user code on an executor. */
  userStack?: string;
}

/** What every StratusError constructor takes besides its message and context. */
export interface StratusErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
  /** Overrides the class's verdict on whether running the same work again can succeed. */
  retryable?: boolean;
}

/** `options` without `retryable`, as `Error`'s constructor takes it (no `cause` key when none was given). */
function errorOptions(options: StratusErrorOptions): ErrorOptions | undefined {
  return 'cause' in options ? { cause: options.cause } : undefined;
}

/**
 * Base class of every error a user can cause; `code` is stable across versions. Not retryable
 * unless constructed with `retryable: true`: what a user caused (a config, a plan, a record)
 * is met again by a retry, while transient conditions (throttling, a dropped connection) reach
 * us as the SDK's own errors, which `isRetryable` counts as retryable.
 */
export class StratusError extends Error {
  /** What went wrong, as a stable upper-case identifier (`JOB_FAILED`, `INVALID_KEY`…) to branch on. */
  readonly code: string;
  /** Where it went wrong: job, stage, partition, attempt, blob… as far as known. */
  readonly context: ErrorContext;
  /** True when running the same work again may succeed; false for a deterministic failure. */
  readonly retryable: boolean;

  constructor(code: string, message: string, context: ErrorContext = {}, options: StratusErrorOptions = {}) {
    super(message, errorOptions(options));
    this.name = 'StratusError';
    this.code = code;
    this.context = context;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * A queue message or blob that does not match the protocol (wrong shape, wrong version, bad
 * encoding). Not retryable: the same message is just as malformed on its next delivery.
 */
export class ProtocolError extends StratusError {
  constructor(message: string, context: ErrorContext = {}, options: StratusErrorOptions = {}) {
    super('PROTOCOL', message, context, options);
    this.name = 'ProtocolError';
  }
}

/**
 * A job failed: a task kept failing, its message was poisoned, or the plan could not be built.
 * Not retryable by default: the task scheduler has already retried what a retry could fix.
 */
export class JobFailedError extends StratusError {
  constructor(message: string, context: ErrorContext = {}, options: StratusErrorOptions = {}) {
    super('JOB_FAILED', message, context, options);
    this.name = 'JobFailedError';
  }
}

/** Invalid configuration or arguments given by the user (CLI flags, options, params). Not retryable. */
export class ConfigError extends StratusError {
  constructor(message: string, context: ErrorContext = {}, options: StratusErrorOptions = {}) {
    super('CONFIG', message, context, options);
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

/** JSON of `value` where it has one, else its String() (a BigInt, a symbol, a cycle); never throws. */
function describeThrown(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // a BigInt, a cycle, a throwing toJSON: described below
  }
  try {
    return String(value);
  } catch {
    // an object without a usable toString (a null prototype)
    return Object.prototype.toString.call(value);
  }
}

/**
 * Turn anything thrown into an Error: an Error as it is, a string as the message, anything else
 * described (`non-Error thrown: 42`). Never undefined or null — the Functions worker reports a
 * handler that throws either as a success — so every catch that rethrows goes through here.
 */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  return new Error(`non-Error thrown: ${value === undefined ? 'undefined' : describeThrown(value)}`, {
    cause: value,
  });
}

/**
 * Whether running the same work again can succeed after `error`: a StratusError says so itself;
 * anything else (a storage SDK error, a network error, an internal invariant) may be transient.
 */
export function isRetryable(error: unknown): boolean {
  return error instanceof StratusError ? error.retryable : true;
}

/**
 * User code (a closure given to a dataset operation) threw while a task ran it. Retryable by
 * default, as Spark retries a task whose user code threw up to maxFailures times; not when the
 * user threw a non-retryable StratusError (NonRetryableError), or when constructed with
 * `retryable: false`.
 */
export class UserCodeError extends StratusError {
  constructor(
    operation: string,
    error: unknown,
    context: ErrorContext = {},
    options: { retryable?: boolean } = {},
  ) {
    // Only a thrown Error's stack is the user's; a coerced value's would point here.
    const userStack = error instanceof Error ? error.stack : undefined;
    super(
      'USER_CODE',
      `${operation} threw: ${coerceError(error).message}`,
      userStack ? { ...context, userStack } : context,
      { cause: error, retryable: options.retryable ?? isRetryable(error) },
    );
    this.name = 'UserCodeError';
  }
}

/**
 * Throw from your own code — a function given to a dataset operation — when running it again
 * cannot help (bad data, a broken invariant): the stage fails on this first attempt instead of
 * being retried up to maxFailures (4) times, and the job fails with your message and stack.
 */
export class NonRetryableError extends StratusError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('NON_RETRYABLE', message, {}, { ...options, retryable: false });
    this.name = 'NonRetryableError';
  }
}

/** An action that needs at least one record (first, reduce) ran on an empty dataset. Not retryable. */
export class EmptyCollectionError extends StratusError {
  constructor(action: string) {
    super('EMPTY_COLLECTION', `${action}: empty collection`);
    this.name = 'EmptyCollectionError';
  }
}

/**
 * Wrap what user code threw so it names the operation. StratusErrors the engine raised pass
 * through unchanged; a NonRetryableError the user threw is wrapped too (and stays not retryable).
 */
export function asUserCodeError(operation: string, error: unknown): StratusError {
  if (error instanceof StratusError && !(error instanceof NonRetryableError)) return error;
  return new UserCodeError(operation, error);
}

/**
 * A reduce task could not read a map output of `shuffleId` (Spark's FetchFailedException): its
 * blob is gone. Retrying the reduce task cannot help, so it is not retryable; the driver instead
 * resubmits the map stage that writes the shuffle, then the stage that read it.
 */
export class ShuffleOutputMissingError extends StratusError {
  constructor(shuffleId: number, blob: string, detail: string) {
    super(
      'SHUFFLE_OUTPUT_MISSING',
      `shuffle ${shuffleId}: ${detail}`,
      { shuffleId, blob },
      { retryable: false },
    );
    this.name = 'ShuffleOutputMissingError';
  }
}
