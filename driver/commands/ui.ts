/**
 * `stratus ui [--port P] [--log-dir D] [--connection-string S | --account A] [--log-file F]`: a
 * local web app over event logs — applications, jobs, stage DAGs, task tables with quantiles,
 * executors and slots, the task timeline — that follows running applications live. By default
 * it reads the local copies embedded runs keep in `.stratus/event-logs` (driver/observe/ui/).
 */
import { type Command, Option } from 'commander';
import { startUiServer } from '../observe/ui/server.js';
import { uiSources } from '../observe/ui/sources.js';
import { integerAtLeast, onShutdownSignal } from './options.js';

/** The storage flags `stratus ui` and `stratus status` share. */
export interface StorageFlags {
  connectionString?: string;
  account?: string;
}

/** Add `--connection-string` (env STRATUS_CONNECTION) and `--account` to a command. */
export function addStorageOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--connection-string <string>', 'storage account connection string').env(
        'STRATUS_CONNECTION',
      ),
    )
    .addOption(
      new Option('--account <name>', 'storage account name, reached with your Azure identity').env(
        'STRATUS_ACCOUNT',
      ),
    );
}

interface UiFlags extends StorageFlags {
  port: number;
  host: string;
  logFile?: string;
  /** A folder, or false for --no-log-dir. */
  logDir?: string | false;
}

/** Add the `ui` subcommand to `program`. */
export function registerUiCommand(program: Command): void {
  const command = program
    .command('ui')
    .description('serve a web UI over event logs (applications, jobs, stages, tasks, executors, timeline)')
    .option('--port <n>', 'port to listen on (0: any free port)', integerAtLeast(0), 4040)
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--log-file <file>', 'show one event log file only')
    .option(
      '--log-dir <dir>',
      'folder of event log files (default: STRATUS_EVENT_LOG_DIR, else .stratus/event-logs, where local runs keep theirs)',
    )
    .option('--no-log-dir', 'do not read the folder of local event logs');
  addStorageOptions(command).action(async (flags: UiFlags) => {
    const sources = uiSources(flags);
    const server = await startUiServer({ port: flags.port, host: flags.host, source: sources });
    process.stdout.write(`stratus ui: ${server.url} (Ctrl-C to stop)\n`);
    onShutdownSignal(() => server.close());
    await new Promise<never>(() => undefined);
  });
}
