/**
 * Where `stratus ui` finds event logs: one log file when given; else the folder of local copies
 * that embedded runs keep (`.stratus/event-logs`) together with a storage account's
 * `stratus-logs` container, listed side by side by the application store.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../../contract/errors.js';
import { BlobStore } from '../../../storage/blob-store.js';
import { connectStorageAccount, type StorageAccountTarget } from '../../fabric/azure.js';
import { defaultEventLogDir } from '../event-log.js';
import type { UiSource } from './app-store.js';

/** What the user said about where the logs are (`stratus ui`'s flags, environment already applied). */
export interface UiSourceOptions extends StorageAccountTarget {
  /** One event log file: shown alone. */
  logFile?: string | undefined;
  /** A folder of event logs, or false to leave the folder of local copies out (`--no-log-dir`). */
  logDir?: string | false | undefined;
}

/**
 * The event logs `stratus ui` shows: `logFile` alone when given; else the account of
 * `connectionString` / `account` together with the folder of local copies — `logDir`, else
 * STRATUS_EVENT_LOG_DIR or `.stratus/event-logs`, where embedded runs keep theirs (the default
 * folder only when it exists; `logDir: false` leaves it out). Throws ConfigError when that leaves nothing.
 */
export function uiSources(options: UiSourceOptions): UiSource[] {
  if (options.logFile) return [{ file: options.logFile }];
  const sources: UiSource[] = [];
  if (options.logDir !== false) {
    const dir = options.logDir !== undefined ? path.resolve(options.logDir) : defaultEventLogDir();
    if (options.logDir !== undefined || existsSync(dir)) sources.push({ dir });
  }
  if (options.connectionString || options.account) {
    const connection = connectStorageAccount(options, 'ui');
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
