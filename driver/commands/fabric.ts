/**
 * The flags that say where a run's executors are — shared by `stratus run` and `stratus
 * explain`, so explain plans for the slots the run will have. What they mean (and which
 * combinations conflict) is driver/fabric/fabric-flags.ts.
 */
import { type Command, Option } from 'commander';
import { integerAtLeast } from './options.js';

/** Add the fabric flags to `command`; `verb` words the help ("run on", "plan for"). */
export function addFabricOptions(command: Command, verb: string): Command {
  return command
    .option(
      '--local',
      `${verb} a local fabric (the default): the running \`stratus local\` for the task queue if there is one, else one started for the run`,
    )
    .option('--own-fabric', 'with --local: start a fabric for the run even when a `stratus local` is running')
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
