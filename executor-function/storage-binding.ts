/**
 * Resolves a binding's `connection` setting name to a storage connection, the way the Functions
 * host does (Azure Functions docs, "Connections" / "Configure an identity-based connection"):
 *
 * - `<name>` holds a connection string (Azurite, or an account key in development); or
 * - `<name>__accountName` (default public-cloud endpoints), or `<name>__blobServiceUri` plus
 *   `<name>__queueServiceUri` (any cloud), with `<name>__credential=managedidentity` and an
 *   optional `<name>__clientId` / `<name>__managedIdentityResourceId` naming a user-assigned
 *   identity. Without `__credential` the host uses the developer's own identity chain, which is
 *   `DefaultAzureCredential` here.
 *
 * `resolveStorageBinding` is pure (settings in, a plan out) so the rules are testable without a
 * network; `connectFromSetting` turns the plan into SDK clients once per process.
 */
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { ConfigError } from '../contract/errors.js';
import { connectStorage, type StorageConnection } from '../storage/connection.js';

/** The connection setting every stratus binding uses. */
export const STORAGE_CONNECTION_SETTING = 'AzureWebJobsStorage';

/** The identity-based suffixes (`<name>__<suffix>`) this executor understands. */
export const IDENTITY_SETTING_SUFFIXES = [
  'accountName',
  'blobServiceUri',
  'queueServiceUri',
  'credential',
  'clientId',
  'managedIdentityResourceId',
] as const;

/** Which credential an identity-based connection uses. */
export type CredentialPlan =
  | { kind: 'managed-identity'; clientId?: string; resourceId?: string }
  | { kind: 'default' };

/** How setting `name` says to reach storage: a connection string or an identity plus endpoints. */
export type StorageBinding =
  | { kind: 'connection-string'; setting: string; connectionString: string }
  | {
      kind: 'identity';
      setting: string;
      accountName: string;
      blobServiceUri: string;
      queueServiceUri: string;
      credential: CredentialPlan;
    };

/** Setting lookup that treats blank values as unset and accepts `:` for `__` (both are documented). */
function read(env: NodeJS.ProcessEnv, name: string, suffix: string): string | undefined {
  for (const key of [`${name}__${suffix}`, `${name}:${suffix}`]) {
    const value = env[key]?.trim();
    if (value) return value;
  }
  return undefined;
}

function serviceUri(raw: string, setting: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      `app setting ${setting}: "${raw}" is not a URL like https://<account>.queue.core.windows.net`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`app setting ${setting}: "${raw}" must be an http(s) URL`);
  }
  return raw.replace(/\/+$/, '');
}

/** The account name in a service URI's host (`<account>.blob.core.windows.net`) or path (Azurite). */
function accountFromUri(uri: string): string {
  const url = new URL(uri);
  const first = url.hostname.split('.')[0] ?? '';
  if (/^\d+$/.test(first) || url.hostname === 'localhost') return url.pathname.split('/')[1] ?? '';
  return first;
}

const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;

/**
 * Read the settings for connection `name` and decide how to connect, without any I/O.
 * Throws ConfigError naming the missing or malformed setting.
 */
export function resolveStorageBinding(
  env: NodeJS.ProcessEnv,
  name = STORAGE_CONNECTION_SETTING,
): StorageBinding {
  const connectionString = env[name]?.trim();
  if (connectionString) return { kind: 'connection-string', setting: name, connectionString };

  const accountName = read(env, name, 'accountName');
  const blobUri = read(env, name, 'blobServiceUri');
  const queueUri = read(env, name, 'queueServiceUri');
  if (accountName === undefined && blobUri === undefined && queueUri === undefined) {
    throw new ConfigError(
      `app setting ${name} is not set: it must hold a storage connection string, or use an ` +
        `identity-based connection with ${name}__accountName (and ${name}__credential=managedidentity on Azure)`,
    );
  }
  if (accountName !== undefined && !ACCOUNT_NAME.test(accountName)) {
    throw new ConfigError(
      `app setting ${name}__accountName: "${accountName}" is not a storage account name (3–24 lowercase letters and digits)`,
    );
  }
  // The executor needs both services (task and event queues, and blobs), so with explicit URIs
  // both must be given, as the host itself requires for AzureWebJobsStorage.
  if (accountName === undefined && (blobUri === undefined || queueUri === undefined)) {
    const missing = blobUri === undefined ? 'blobServiceUri' : 'queueServiceUri';
    throw new ConfigError(
      `app setting ${name}__${missing} is not set: give ${name}__accountName, or both service URIs`,
    );
  }
  const blobServiceUri = blobUri
    ? serviceUri(blobUri, `${name}__blobServiceUri`)
    : `https://${accountName}.blob.core.windows.net`;
  const queueServiceUri = queueUri
    ? serviceUri(queueUri, `${name}__queueServiceUri`)
    : `https://${accountName}.queue.core.windows.net`;

  const credentialKind = read(env, name, 'credential');
  const clientId = read(env, name, 'clientId');
  const resourceId = read(env, name, 'managedIdentityResourceId');
  if (credentialKind !== undefined && credentialKind.toLowerCase() !== 'managedidentity') {
    throw new ConfigError(
      `app setting ${name}__credential: "${credentialKind}" is not supported; the only documented value is "managedidentity"`,
    );
  }
  if (clientId !== undefined && resourceId !== undefined) {
    throw new ConfigError(
      `app settings ${name}__clientId and ${name}__managedIdentityResourceId are exclusive`,
    );
  }
  let credential: CredentialPlan;
  if (clientId !== undefined) credential = { kind: 'managed-identity', clientId };
  else if (resourceId !== undefined) credential = { kind: 'managed-identity', resourceId };
  else if (credentialKind !== undefined) credential = { kind: 'managed-identity' };
  else credential = { kind: 'default' };

  return {
    kind: 'identity',
    setting: name,
    accountName: accountName ?? accountFromUri(blobServiceUri),
    blobServiceUri,
    queueServiceUri,
    credential,
  };
}

/**
 * Build the token credential a plan names: a user-assigned managed identity (by client id or
 * resource id), the system-assigned one, or `DefaultAzureCredential` (developer sign-in, then
 * managed identity). Constructing a credential does no I/O; tokens are fetched on first use.
 */
export function createCredential(plan: CredentialPlan): TokenCredential {
  if (plan.kind === 'default') return new DefaultAzureCredential();
  if (plan.clientId !== undefined) return new ManagedIdentityCredential({ clientId: plan.clientId });
  if (plan.resourceId !== undefined) return new ManagedIdentityCredential({ resourceId: plan.resourceId });
  return new ManagedIdentityCredential();
}

/** Open the blob and queue clients a resolved binding describes. */
export function connectBinding(binding: StorageBinding): StorageConnection {
  if (binding.kind === 'connection-string') {
    return connectStorage({ connectionString: binding.connectionString });
  }
  return connectStorage({
    accountName: binding.accountName,
    credential: createCredential(binding.credential),
    blobEndpoint: binding.blobServiceUri,
    queueEndpoint: binding.queueServiceUri,
  });
}

/**
 * The connection string in app setting `name`; throws ConfigError saying which setting is missing,
 * or that the setting is identity-based (use `connectFromSetting` for either form).
 */
export function connectionStringFromSetting(
  env: NodeJS.ProcessEnv,
  name = STORAGE_CONNECTION_SETTING,
): string {
  const binding = resolveStorageBinding(env, name);
  if (binding.kind === 'connection-string') return binding.connectionString;
  throw new ConfigError(`app setting ${name} is identity-based (${name}__*): it holds no connection string`);
}

let cached: { key: string; connection: StorageConnection } | undefined;

/** One storage connection per process for setting `name` (built on first use, either form). */
export function connectFromSetting(
  env: NodeJS.ProcessEnv,
  name = STORAGE_CONNECTION_SETTING,
): StorageConnection {
  const binding = resolveStorageBinding(env, name);
  const key = JSON.stringify(binding);
  if (cached?.key !== key) cached = { key, connection: connectBinding(binding) };
  return cached.connection;
}
