/**
 * The flags that say where a run's executors are — shared by `stratus run` and `stratus
 * explain`, so explain plans for the slots the run will have: `--local` (the default, an
 * embedded fabric of `--executors` × `--slots`), `--connection-string` / STRATUS_CONNECTION (a
 * running `stratus local`, whose published size is read), `--azure` / `--account` /
 * STRATUS_ACCOUNT (a deployment: its configured slots × instances), `--total-slots` to override.
 */
import { type Command, Option } from 'commander';
import { ConfigError } from '../../contract/errors.js';
import type { FabricChoice } from '../fabric/connection.js';
import { integerAtLeast } from './options.js';

/** The parsed fabric flags. */
export interface FabricFlags {
  local?: boolean;
  azure?: boolean;
  account?: string;
  connectionString?: string;
  executors?: number;
  slots?: number;
  totalSlots?: number;
}

/** Add the fabric flags to `command`; `verb` words the help ("run on", "plan for"). */
export function addFabricOptions(command: Command, verb: string): Command {
  return command
    .option('--local', `${verb} a local fabric (Azurite + executors) started for the run (the default)`)
    .option(
      '--azure',
      `${verb} a deployment: the storage account of --account / STRATUS_ACCOUNT, with your Entra identity`,
    )
    .addOption(
      new Option('--account <name>', 'storage account of the deployment (implies --azure)').env(
        'STRATUS_ACCOUNT',
      ),
    )
    .addOption(
      new Option(
        '--connection-string <string>',
        `${verb} the executors of this storage account (a running stratus local publishes its slots there)`,
      ).env('STRATUS_CONNECTION'),
    )
    .option('-e, --executors <n>', 'executors of the local fabric (default 2)', integerAtLeast(1))
    .option('-s, --slots <n>', 'slots per executor of the local fabric (default 2)', integerAtLeast(1))
    .option(
      '--total-slots <n>',
      'default parallelism when joining a running fabric or a deployment (overrides what it says)',
      integerAtLeast(1),
    );
}

/** Where the flags put the executors; throws ConfigError for contradictory flags. */
export function fabricChoice(flags: FabricFlags, env: NodeJS.ProcessEnv = process.env): FabricChoice {
  // commander fills --connection-string from STRATUS_CONNECTION: only an explicit flag conflicts.
  if (flags.local && flags.connectionString && env.STRATUS_CONNECTION !== flags.connectionString) {
    throw new ConfigError('--local and --connection-string cannot be used together');
  }
  if (flags.azure && !flags.account) {
    throw new ConfigError(
      "--azure needs the deployment's storage account: --account <name> or STRATUS_ACCOUNT (azd env get-values prints it)",
    );
  }
  const totalSlots = flags.totalSlots ? { totalSlots: flags.totalSlots } : {};
  const azure = flags.azure || (flags.account !== undefined && !flags.local && !flags.connectionString);
  if (azure) return { account: flags.account!, ...totalSlots };
  if (flags.local || !flags.connectionString) {
    return {
      local: {
        ...(flags.executors ? { executors: flags.executors } : {}),
        ...(flags.slots ? { slots: flags.slots } : {}),
      },
    };
  }
  return { connectionString: flags.connectionString, ...totalSlots };
}
