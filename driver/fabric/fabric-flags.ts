/**
 * The fabric flags `stratus run` and `stratus explain` share, and the FabricChoice they name, so
 * explain plans for the slots the run will have: `--local` (the default, an embedded fabric of
 * `--executors` × `--slots`), `--connection-string` / STRATUS_CONNECTION (a running `stratus
 * local`), `--azure` / `--account` / STRATUS_ACCOUNT (a deployment), `--total-slots` to override.
 */
import { ConfigError } from '../../contract/errors.js';
import type { FabricChoice } from './connection.js';

/** The parsed fabric flags (commander has already filled `account` / `connectionString` from the environment). */
export interface FabricFlags {
  local?: boolean;
  azure?: boolean;
  account?: string;
  connectionString?: string;
  executors?: number;
  slots?: number;
  totalSlots?: number;
}

/**
 * Where the flags put the executors; `env` tells an explicit `--connection-string` from one
 * read from STRATUS_CONNECTION. Throws ConfigError for contradictory flags.
 */
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
