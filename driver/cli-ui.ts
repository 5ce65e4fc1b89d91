/**
 * `stratus ui [--port P] [--connection-string S | --account A | --log-file F]`: a local web
 * app over event logs — applications, jobs, stage DAGs, task tables with quantiles,
 * executors and slots, the task timeline — that follows running applications live.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { type Command, Option } from 'commander';
import { ConfigError } from '../engine/errors.js';
import { BlobStore } from '../storage/blob-store.js';
import { connectStorage, type StorageConnection } from '../storage/connection.js';
import { integerAtLeast, onShutdownSignal } from './cli-options.js';
import { startUiServer, type UiSource } from './ui/server.js';

export { startUiServer, type UiServer, type UiServerOptions, type UiSource } from './ui/server.js';

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
}

/** Add the `ui` subcommand to `program`. */
export function registerUiCommand(program: Command): void {
  const command = program
    .command('ui')
    .description('serve a web UI over event logs (applications, jobs, stages, tasks, executors, timeline)')
    .option('--port <n>', 'port to listen on (0: any free port)', integerAtLeast(0), 4040)
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--log-file <file>', 'show one event log file instead of a storage account');
  addStorageOptions(command).action(async (flags: UiFlags) => {
    const source: UiSource = flags.logFile
      ? { file: flags.logFile }
      : (() => {
          const connection = connectFromFlags(flags, 'ui');
          return { blobs: new BlobStore(connection), description: connection.description };
        })();
    const server = await startUiServer({ port: flags.port, host: flags.host, source });
    process.stdout.write(`stratus ui: ${server.url} (Ctrl-C to stop)\n`);
    onShutdownSignal(() => server.close());
    await new Promise<never>(() => undefined);
  });
}
