#!/usr/bin/env node
/**
 * The `stratus` command line. Each subcommand lives in its own thin `commands/<name>.ts` (flags
 * in, one call into its subsystem, lines out) and is registered by commands/program.ts; unknown
 * commands and flags fail with a clear message and a non-zero exit.
 */
import { describeContext, StratusError } from '../contract/errors.js';
import { redactSecrets } from '../storage/connection.js';
import { TypeCheckError } from './app/typecheck.js';
import { shutdownExitCode } from './commands/options.js';
import { buildProgram } from './commands/program.js';

/**
 * Print an error the way the CLI reports every failure: one redacted line plus the context. A
 * failed type check is the compiler's report alone, as tsc prints it, so editors and CI
 * annotate it like any tsc output.
 */
function reportError(error: unknown): void {
  if (error instanceof TypeCheckError) {
    process.stderr.write(redactSecrets(error.report));
    return;
  }
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
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(shutdownExitCode() ?? 0);
  throw error;
});

buildProgram()
  .parseAsync(process.argv)
  .then(
    // Subcommands that started processes have stopped them; exit even if a handle lingers.
    () => process.exit(shutdownExitCode() ?? 0),
    (error: unknown) => {
      reportError(error);
      process.exit(shutdownExitCode() ?? 1);
    },
  );
