/**
 * The fabric flags `stratus run` and `stratus explain` share, and the FabricChoice they name, so
 * explain plans for the slots the run will have: `--local` (the default, an embedded fabric of
 * `--executors` × `--slots`), `--connection-string` / STRATUS_CONNECTION (a running `stratus
 * local`), `--azure` / `--account` / STRATUS_ACCOUNT (a deployment), `--total-slots` to override.
 */
import { ConfigError } from '../../contract/errors.js';
import { DEFAULT_TASK_QUEUE } from '../../contract/names.js';
import type { FabricChoice } from './connection.js';
import { findRunningLocalFabric, type LocalFabricLookup } from './local-registry.js';

/** The parsed fabric flags (commander has already filled `account` / `connectionString` from the environment). */
export interface FabricFlags {
  local?: boolean;
  azure?: boolean;
  account?: string;
  connectionString?: string;
  executors?: number;
  slots?: number;
  totalSlots?: number;
  /** --own-fabric: start a fabric for the run even when a `stratus local` is running. */
  ownFabric?: boolean;
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

/** What `joinRunningLocal` decided, and the line that tells the user. */
export interface LocalJoin {
  choice: FabricChoice;
  /** The status line to print (joined, not joined and why, a stale record ignored); undefined: nothing to say. */
  line: string | undefined;
  lookup: LocalFabricLookup;
}

/**
 * For a run that would start its own local fabric, join the `stratus local` already running for
 * its task queue instead (local-registry.ts), unless `--own-fabric` was given or the flags ask
 * for a shape (`--executors`, `--slots`) the running one does not have. Other choices pass through.
 */
export async function joinRunningLocal(
  flags: FabricFlags,
  choice: FabricChoice,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalJoin> {
  if (choice.local === undefined || flags.ownFabric === true)
    return { choice, line: undefined, lookup: { found: 'none' } };
  const queue = env.STRATUS_TASK_QUEUE || DEFAULT_TASK_QUEUE;
  const lookup = await findRunningLocalFabric(queue, { env });
  if (lookup.found === 'stale')
    return {
      choice,
      lookup,
      line: `a stratus local was recorded for queue ${queue} but is gone (${lookup.reason}); record ${lookup.file} removed, starting a local fabric for this run`,
    };
  if (lookup.found === 'none') return { choice, lookup, line: undefined };
  const r = lookup.record;
  const shape = `${r.executors} executors × ${r.slotsPerExecutor} slots`;
  const mismatch = [
    flags.executors !== undefined && flags.executors !== r.executors ? `--executors ${flags.executors}` : '',
    flags.slots !== undefined && flags.slots !== r.slotsPerExecutor ? `--slots ${flags.slots}` : '',
  ].filter(Boolean);
  if (mismatch.length > 0)
    return {
      choice,
      lookup,
      line: `not joining the running stratus local (pid ${r.pid}, ${shape}): ${mismatch.join(' ')} asks for another shape; starting a local fabric for this run`,
    };
  return {
    choice: {
      connectionString: r.connectionString,
      taskQueue: r.queue,
      totalSlots: flags.totalSlots ?? r.totalSlots,
    },
    lookup,
    line: `joining the running stratus local (pid ${r.pid}, ${shape}, queue ${r.queue}); --own-fabric starts a fresh one for this run`,
  };
}
