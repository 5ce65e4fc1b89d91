/**
 * The `stratus` program: every subcommand registered, nothing parsed yet. `cli.ts` runs it (tests
 * check commands and flags through the built CLI's `--help`, see test/infra/deploy-doc.test.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../../contract/package-root.js';
import { registerCleanCommand } from './clean.js';
import { registerDoctorCommand } from './doctor.js';
import { registerExplainCommand } from './explain.js';
import { registerLocalCommand } from './local.js';
import { registerNoopCommand } from './noop.js';
import { registerOutputCommands } from './output.js';
import { registerRunCommand } from './run.js';
import { registerStatusCommand } from './status.js';
import { registerUiCommand } from './ui.js';

/** This package's version, from its package.json. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
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
