/**
 * `stratus ui [--port P] [--log-dir D] [--connection-string S | --account A] [--log-file F]`: a
 * local web app over event logs — applications, jobs, stage DAGs, task tables with quantiles,
 * executors and slots, the task timeline — that follows running applications live. By default
 * it reads the local copies embedded runs keep in `.stratus/event-logs`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DefaultAzureCredential } from '@azure/identity';
import { type Command, Option } from 'commander';
import { ConfigError } from '../../contract/errors.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage, type StorageConnection } from '../../storage/connection.js';
import { defaultEventLogDir } from '../observe/event-log.js';
import { startUiServer, type UiSource } from '../observe/ui/server.js';
import { integerAtLeast, onShutdownSignal } from './options.js';

export { startUiServer, type UiServer, type UiServerOptions, type UiSource } from '../observe/ui/server.js';

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

/** Connect as the flags say; throws ConfigError naming the flags when neither is given. */
export function connectFromFlags(flags: StorageFlags, command: string): StorageConnection {
  if (flags.connectionString) return connectStorage({ connectionString: flags.connectionString });
  if (flags.account) {
    return connectStorage({ accountName: flags.account, credential: new DefaultAzureCredential() });
  }
  throw new ConfigError(
    `stratus ${command} needs a storage account: --connection-string (or STRATUS_CONNECTION, printed by stratus local) or --account`,
  );
}

interface UiFlags extends StorageFlags {
  port: number;
  host: string;
  logFile?: string;
  /** A folder, or false for --no-log-dir. */
  logDir?: string | false;
}

/**
 * The event logs `stratus ui` shows: `--log-file` alone when given; else the account of
 * `--connection-string` / `--account` (or STRATUS_CONNECTION / STRATUS_ACCOUNT) together with
 * the folder of local copies — `--log-dir`, else STRATUS_EVENT_LOG_DIR or
 * `.stratus/event-logs`, where embedded runs keep theirs (the default folder only when it
 * exists; `--no-log-dir` leaves it out). Throws ConfigError when that leaves nothing.
 */
export function uiSources(flags: Omit<UiFlags, 'port' | 'host'>): UiSource[] {
  if (flags.logFile) return [{ file: flags.logFile }];
  const sources: UiSource[] = [];
  if (flags.logDir !== false) {
    const dir = flags.logDir !== undefined ? path.resolve(flags.logDir) : defaultEventLogDir();
    if (flags.logDir !== undefined || existsSync(dir)) sources.push({ dir });
  }
  if (flags.connectionString || flags.account) {
    const connection = connectFromFlags(flags, 'ui');
    sources.push({ blobs: new BlobStore(connection), description: connection.description });
  }
  if (sources.length === 0) {
    throw new ConfigError(
      `stratus ui has no event logs to show: no ${path.relative(process.cwd(), defaultEventLogDir()) || defaultEventLogDir()} folder ` +
        '(stratus run keeps the logs of local runs there), and no storage account: give --log-dir, --log-file, ' +
        '--connection-string (or STRATUS_CONNECTION, printed by stratus local) or --account',
    );
  }
  return sources;
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
