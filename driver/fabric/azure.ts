/**
 * How a driver reaches a deployed stratus: by storage account name with the user's own Microsoft
 * Entra identity (`DefaultAzureCredential`: `az login`, `azd auth login`, environment variables,
 * managed identity…), which is what the Bicep grants data roles to, or by connection string
 * (Azurite, `stratus local`, or an account that still allows keys).
 *
 * Settings come from options first, then the environment azd writes from the deployment outputs
 * (`azd env get-values`): STRATUS_ACCOUNT, STRATUS_CONNECTION, STRATUS_TASK_QUEUE,
 * STRATUS_TOTAL_SLOTS (or STRATUS_SLOTS_PER_EXECUTOR × STRATUS_MAX_INSTANCES),
 * STRATUS_INSTANCE_MEMORY_MB, STRATUS_SIGNING_KEY_URI (signing-key.ts), and optionally STRATUS_BLOB_ENDPOINT / STRATUS_QUEUE_ENDPOINT for clouds
 * other than Azure's public one. Resolving does no I/O; credentials fetch tokens on first use.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { ConfigError } from '../../contract/errors.js';
import { DEFAULT_TASK_QUEUE } from '../../contract/names.js';
import { connectStorage, type StorageConnection } from '../../storage/connection.js';

/**
 * `DefaultAzureCredential`, loaded when the first token is asked for: `@azure/identity` and the
 * MSAL library under it are a sixth of the command line's modules, and only a run or command
 * reaching a deployment by account name uses them. Constructing it does no I/O either way.
 */
export class DeferredDefaultAzureCredential implements TokenCredential {
  private credential: Promise<TokenCredential> | undefined;

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.credential ??= import('@azure/identity').then(
      ({ DefaultAzureCredential }) => new DefaultAzureCredential(),
    );
    return this.credential.then((credential) => credential.getToken(scopes, options));
  }
}

/** Environment variables the driver reads to find a deployment. */
export const AZURE_ENV = {
  account: 'STRATUS_ACCOUNT',
  connectionString: 'STRATUS_CONNECTION',
  taskQueue: 'STRATUS_TASK_QUEUE',
  totalSlots: 'STRATUS_TOTAL_SLOTS',
  slotsPerExecutor: 'STRATUS_SLOTS_PER_EXECUTOR',
  maxInstances: 'STRATUS_MAX_INSTANCES',
  instanceMemoryMb: 'STRATUS_INSTANCE_MEMORY_MB',
  blobEndpoint: 'STRATUS_BLOB_ENDPOINT',
  queueEndpoint: 'STRATUS_QUEUE_ENDPOINT',
  /** Versionless Key Vault URI of the task-message signing key (signing-key.ts reads it). */
  signingKeyUri: 'STRATUS_SIGNING_KEY_URI',
} as const;

/** A storage account the user names to read from (`stratus ui`, `stratus status`). */
export interface StorageAccountTarget {
  /** Connection string (Azurite, `stratus local`, an account that allows keys); wins over `account`. */
  connectionString?: string | undefined;
  /** Account name, reached with DefaultAzureCredential. */
  account?: string | undefined;
}

/** Options of `resolveAzureConnection`; each overrides its environment variable. */
export interface AzureConnectionOptions {
  /** Storage account name (identity-based); `STRATUS_ACCOUNT`. */
  account?: string | undefined;
  /** Connection string; `STRATUS_CONNECTION`. */
  connectionString?: string | undefined;
  /** Task queue; `STRATUS_TASK_QUEUE`, default `stratus-tasks`. */
  queue?: string | undefined;
  /** Default parallelism (slots × instances); `STRATUS_TOTAL_SLOTS`. */
  totalSlots?: number | undefined;
  /** Credential for `account`; default `DefaultAzureCredential`. */
  credential?: TokenCredential | undefined;
  /** Environment to read; default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
}

/** A resolved connection to a deployment. */
export interface AzureConnection {
  /** Blob and queue clients for the account. */
  storage: StorageConnection;
  /** The queue executors are triggered by. */
  taskQueue: string;
  /**
   * Default parallelism when configured: options, else STRATUS_TOTAL_SLOTS, else
   * STRATUS_SLOTS_PER_EXECUTOR × STRATUS_MAX_INSTANCES (the deployment's outputs).
   */
  totalSlots?: number;
  /** Memory of each executor instance (MB, the deployment's STRATUS_INSTANCE_MEMORY_MB), for the cost estimate. */
  instanceMemoryMb?: number;
  /** `azure`: account name + Entra identity; `connect`: connection string. */
  mode: 'azure' | 'connect';
  /** The account name in `azure` mode. */
  account?: string;
  /** The Entra credential storage is reached with in `azure` mode (Key Vault is read with it too). */
  credential?: TokenCredential;
}

const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const QUEUE_NAME = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/;

function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function positiveInteger(raw: string, name: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(`${name}=${raw} must be an integer ≥ 1`);
  }
  return n;
}

/**
 * Decide how to connect from options and the environment, and build the storage clients.
 * Throws ConfigError when neither or both of account and connection string are given, or a
 * value is malformed.
 */
export function resolveAzureConnection(options: AzureConnectionOptions = {}): AzureConnection {
  const env = options.env ?? process.env;
  // An explicit option beats the environment, and one kind of option beats the other kind's env.
  const explicitAccount = options.account?.trim() || undefined;
  const explicitConnection = options.connectionString?.trim() || undefined;
  if (explicitAccount && explicitConnection) {
    throw new ConfigError('give either --account or --connection-string, not both');
  }
  const account = explicitAccount ?? (explicitConnection ? undefined : setting(env, AZURE_ENV.account));
  const connectionString =
    explicitConnection ?? (explicitAccount ? undefined : setting(env, AZURE_ENV.connectionString));
  if (account && connectionString) {
    throw new ConfigError(
      `both ${AZURE_ENV.account} and ${AZURE_ENV.connectionString} are set: unset one, or pass --account / --connection-string`,
    );
  }
  const taskQueue = options.queue?.trim() || setting(env, AZURE_ENV.taskQueue) || DEFAULT_TASK_QUEUE;
  if (!QUEUE_NAME.test(taskQueue)) {
    throw new ConfigError(
      `task queue "${taskQueue}" is not a valid queue name (3–63 lowercase letters, digits, single hyphens)`,
    );
  }
  let totalSlots = options.totalSlots;
  if (totalSlots !== undefined && (!Number.isSafeInteger(totalSlots) || totalSlots < 1)) {
    throw new ConfigError(`totalSlots must be an integer ≥ 1, got ${totalSlots}`);
  }
  const rawSlots = setting(env, AZURE_ENV.totalSlots);
  if (totalSlots === undefined && rawSlots !== undefined)
    totalSlots = positiveInteger(rawSlots, AZURE_ENV.totalSlots);
  const perExecutor = setting(env, AZURE_ENV.slotsPerExecutor);
  const instances = setting(env, AZURE_ENV.maxInstances);
  if (totalSlots === undefined && perExecutor !== undefined && instances !== undefined) {
    // The configured shape of the deployment: slots per instance × instances at most.
    totalSlots =
      positiveInteger(perExecutor, AZURE_ENV.slotsPerExecutor) *
      positiveInteger(instances, AZURE_ENV.maxInstances);
  }
  const rawMemory = setting(env, AZURE_ENV.instanceMemoryMb);
  const slots = {
    ...(totalSlots === undefined ? {} : { totalSlots }),
    ...(rawMemory === undefined
      ? {}
      : { instanceMemoryMb: positiveInteger(rawMemory, AZURE_ENV.instanceMemoryMb) }),
  };

  if (connectionString) {
    return { storage: connectStorage({ connectionString }), taskQueue, mode: 'connect', ...slots };
  }
  if (!account) {
    throw new ConfigError(
      `no deployment given: pass --account <storage account> (or set ${AZURE_ENV.account}, which ` +
        `\`azd env get-values\` prints after \`azd up\`), or --connection-string / ${AZURE_ENV.connectionString}`,
    );
  }
  if (!ACCOUNT_NAME.test(account)) {
    throw new ConfigError(`"${account}" is not a storage account name (3–24 lowercase letters and digits)`);
  }
  const blobEndpoint = setting(env, AZURE_ENV.blobEndpoint);
  const queueEndpoint = setting(env, AZURE_ENV.queueEndpoint);
  const credential = options.credential ?? new DeferredDefaultAzureCredential();
  const storage = connectStorage({
    accountName: account,
    credential,
    ...(blobEndpoint ? { blobEndpoint: blobEndpoint.replace(/\/+$/, '') } : {}),
    ...(queueEndpoint ? { queueEndpoint: queueEndpoint.replace(/\/+$/, '') } : {}),
  });
  return { storage, taskQueue, mode: 'azure', account, credential, ...slots };
}

/**
 * Connect to the account `target` names, reading no environment (the caller already did); throws
 * ConfigError naming the flags of `stratus <command>` when it names none.
 */
export function connectStorageAccount(target: StorageAccountTarget, command: string): StorageConnection {
  if (target.connectionString) return connectStorage({ connectionString: target.connectionString });
  if (target.account) {
    return connectStorage({ accountName: target.account, credential: new DeferredDefaultAzureCredential() });
  }
  throw new ConfigError(
    `stratus ${command} needs a storage account: --connection-string (or STRATUS_CONNECTION, printed by stratus local) or --account`,
  );
}
