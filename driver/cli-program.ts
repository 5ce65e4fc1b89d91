/**
 * The `stratus` program: every subcommand registered, nothing parsed yet. `cli.ts` runs it; tests
 * build it to check what the documentation says about commands and flags.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerCleanCommand } from './cli-clean.js';
import { registerDoctorCommand } from './cli-doctor.js';
import { registerExplainCommand } from './cli-explain.js';
import { registerLocalCommand } from './cli-local.js';
import { registerNoopCommand } from './cli-noop.js';
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
    .showHelpAfterError('(run with --help for usage)');
  registerRunCommand(program);
  registerExplainCommand(program);
  registerUiCommand(program);
  registerStatusCommand(program);
  registerOutputCommands(program);
  registerLocalCommand(program);
  registerNoopCommand(program);
  registerDoctorCommand(program);
  registerCleanCommand(program);
  return program;
}
