/**
 * How stratus reaches an Azure Storage account: a connection string (Azurite, or an
 * account key, for development) or an account name with a token credential (managed
 * identity / `DefaultAzureCredential`, the documented default on Azure).
 */
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { redactSecrets, registerConnectionString } from '../contract/redaction.js';

export { redactSecrets } from '../contract/redaction.js';

/** Either a connection string or an account name plus a token credential. */
export type StorageConnectionOptions =
  | { connectionString: string }
  | { accountName: string; credential: TokenCredential; blobEndpoint?: string; queueEndpoint?: string };

/** The two service clients every stratus component needs, built once per process. */
export interface StorageConnection {
  readonly blobService: BlobServiceClient;
  readonly queueService: QueueServiceClient;
  /** A printable description with every secret removed. */
  readonly description: string;
}

const pipeline = {
  // The SDK's own exponential retry policy handles throttling (503/500) and timeouts.
  retryOptions: { maxTries: 5, retryDelayInMs: 200, maxRetryDelayInMs: 5_000 },
} as const;

/** Build the blob and queue service clients for a connection. */
export function connectStorage(options: StorageConnectionOptions): StorageConnection {
  if ('connectionString' in options) {
    // From now on this process removes the string's key or SAS token from everything it prints.
    registerConnectionString(options.connectionString);
    return {
      blobService: BlobServiceClient.fromConnectionString(options.connectionString, pipeline),
      queueService: QueueServiceClient.fromConnectionString(options.connectionString, pipeline),
      description: redactSecrets(options.connectionString),
    };
  }
  const blobEndpoint = options.blobEndpoint ?? `https://${options.accountName}.blob.core.windows.net`;
  const queueEndpoint = options.queueEndpoint ?? `https://${options.accountName}.queue.core.windows.net`;
  return {
    blobService: new BlobServiceClient(blobEndpoint, options.credential, pipeline),
    queueService: new QueueServiceClient(queueEndpoint, options.credential, pipeline),
    description: `account ${options.accountName} (identity-based)`,
  };
}

/** The well-known Azurite development account (public, documented key; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** An Azurite storage account: its name and base64 key (default: the well-known development account). */
export interface AzuriteAccount {
  name: string;
  key: string;
}

/** The connection string for an Azurite instance listening on the given loopback ports. */
export function azuriteConnectionString(
  blobPort: number,
  queuePort: number,
  host = '127.0.0.1',
  account: AzuriteAccount = { name: AZURITE_ACCOUNT, key: AZURITE_KEY },
): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${account.name}`,
    `AccountKey=${account.key}`,
    `BlobEndpoint=http://${host}:${blobPort}/${account.name}`,
    `QueueEndpoint=http://${host}:${queuePort}/${account.name}`,
  ].join(';');
}
