#!/usr/bin/env node
/**
 * The `stratus` command line. Each subcommand lives in its own `cli-<name>.ts` and registers
 * itself here; unknown commands and flags fail with a clear message and a non-zero exit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describeContext, StratusError } from '../engine/errors.js';
import { redactSecrets } from '../storage/connection.js';
import { registerDoctorCommand } from './cli-doctor.js';
import { registerExplainCommand } from './cli-explain.js';
import { registerLocalCommand } from './cli-local.js';
import { registerNoopCommand } from './cli-noop.js';
import { shutdownExitCode } from './cli-options.js';
import { registerOutputCommands } from './cli-output.js';
import { registerRunCommand } from './cli-run.js';
import { registerStatusCommand } from './cli-status.js';
import { registerUiCommand } from './cli-ui.js';

/** This package's version: package.json is two folders up from `dist/driver/`, one from `driver/`. */
function packageVersion(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root =
    path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '..', '..') : path.dirname(here);
  return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Build the `stratus` program with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('stratus')
    .description("Spark's execution model on Azure Functions and Azure Storage")
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    // Commander quotes arguments in its errors (`argument '…' is invalid`): redact them too.
    .configureOutput({
      writeOut: (text) => process.stdout.write(redactSecrets(text)),
      writeErr: (text) => process.stderr.write(redactSecrets(text)),
    });
  registerRunCommand(program);
  registerExplainCommand(program);
  registerUiCommand(program);
  registerStatusCommand(program);
  registerOutputCommands(program);
  registerLocalCommand(program);
  registerNoopCommand(program);
  registerDoctorCommand(program);
  return program;
}

/** Print an error the way the CLI reports every failure: one redacted line plus the context. */
function reportError(error: unknown): void {
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
