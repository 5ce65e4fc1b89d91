/**
 * The `stratus` command line, loaded by cli.ts once Node's compile cache is on. Each subcommand
 * lives in its own thin `commands/<name>.ts` (flags in, one call into its subsystem, lines out)
 * and is registered by commands/program.ts; unknown commands and flags fail with a clear message
 * and a non-zero exit.
 */
import { describeContext, StratusError } from '../contract/errors.js';
import { redactSecrets } from '../storage/connection.js';
import { asStorageUnreachable } from '../storage/unreachable.js';
import { TypeCheckError } from './app/typecheck.js';
import { finishedBeforeExit, shutdownExitCode } from './commands/options.js';
import { buildProgram } from './commands/program.js';
import {
  flushStandardStreams,
  isStdoutClosed,
  STDOUT_CLOSED_EXIT_CODE,
  StdoutClosedError,
  watchStandardStreams,
} from './commands/stdout.js';

/**
 * Print an error the way the CLI reports every failure: one redacted line plus the context. A
 * failed type check is the compiler's report alone, as tsc prints it, so editors and CI
 * annotate it like any tsc output.
 */
function reportError(thrown: unknown): void {
  if (thrown instanceof TypeCheckError) {
    process.stderr.write(redactSecrets(thrown.report));
    return;
  }
  // Commands other than run (status, cat, doctor…) reach storage without Driver.connect.
  const error = asStorageUnreachable(thrown) ?? thrown;
  const message =
    error instanceof StratusError
      ? `${error.message}${describeContext(error.context)}${
          error.context.userStack ? `\n--- the task's error ---\n${error.context.userStack}` : ''
        }`
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  process.stderr.write(`stratus: ${redactSecrets(message)}\n`);
}

// `stratus cat out/ | head` closes our stdout early: stop quietly, as Unix tools do, rather
// than crash with an EPIPE stack trace (nothing more can be shown to a reader who left).
watchStandardStreams();

/**
 * Exit with `code` once stdout and stderr have flushed: writes to a pipe are asynchronous, and
 * exiting before they complete would cut the output a slower reader had not taken yet.
 * Subcommands that started processes have stopped them; we exit even if a handle lingers.
 */
function exitAfterFlush(code: number): void {
  finishedBeforeExit()
    .then(() => flushStandardStreams())
    .then(
      () => process.exit(code),
      () => process.exit(code),
    );
}

buildProgram()
  .parseAsync(process.argv)
  .then(
    () => exitAfterFlush(shutdownExitCode() ?? (isStdoutClosed() ? STDOUT_CLOSED_EXIT_CODE : 0)),
    (error: unknown) => {
      if (error instanceof StdoutClosedError) {
        exitAfterFlush(shutdownExitCode() ?? STDOUT_CLOSED_EXIT_CODE);
        return;
      }
      reportError(error);
      exitAfterFlush(shutdownExitCode() ?? 1);
    },
  );
