/**
 * Resolves a binding's `connection` setting name to a storage connection, the way the Functions
 * host does: the app setting `<name>` holds a connection string. The identity-based form
 * (`<name>__accountName`, `<name>__queueServiceUri`…) is recognised and reported as not yet
 * supported by this build rather than silently ignored.
 */
import { ConfigError } from '../engine/errors.js';
import { connectStorage, type StorageConnection } from '../storage/connection.js';

/** The connection setting every stratus binding uses. */
export const STORAGE_CONNECTION_SETTING = 'AzureWebJobsStorage';

/** The connection string in app setting `name`; throws ConfigError saying which setting is missing. */
export function connectionStringFromSetting(
  env: NodeJS.ProcessEnv,
  name = STORAGE_CONNECTION_SETTING,
): string {
  const value = env[name];
  if (value !== undefined && value.trim() !== '') return value;
  const identityBased = Object.keys(env).some((k) => k.startsWith(`${name}__`));
  if (identityBased) {
    throw new ConfigError(
      `app setting ${name}__* (identity-based connection) is not supported by the stratus executor yet; ` +
        `set ${name} to a connection string`,
    );
  }
  throw new ConfigError(`app setting ${name} is not set: it must hold the storage connection string`);
}

let cached: { key: string; connection: StorageConnection } | undefined;

/** One storage connection per process for setting `name` (built on first use). */
export function connectFromSetting(
  env: NodeJS.ProcessEnv,
  name = STORAGE_CONNECTION_SETTING,
): StorageConnection {
  const connectionString = connectionStringFromSetting(env, name);
  if (cached?.key !== connectionString) {
    cached = { key: connectionString, connection: connectStorage({ connectionString }) };
  }
  return cached.connection;
}
