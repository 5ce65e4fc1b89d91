/**
 * How stratus reaches an Azure Storage account: a connection string (Azurite, or an
 * account key, for development) or an account name with a token credential (managed
 * identity / `DefaultAzureCredential`, the documented default on Azure).
 */
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';

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

const SECRET_PATTERNS: RegExp[] = [
  /(AccountKey=)[^;]+/gi,
  /(SharedAccessSignature=)[^;]+/gi,
  /([?&]sig=)[^&\s]+/gi,
  /(STRATUS_SIGNING_KEY=)\S+/g,
];

/** Remove account keys, SAS signatures and signing keys from text before it is logged or thrown. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, '$1***');
  return out;
}

/** The well-known Azurite development account (public, documented key; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The connection string for an Azurite instance listening on the given loopback ports. */
export function azuriteConnectionString(blobPort: number, queuePort: number, host = '127.0.0.1'): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${AZURITE_ACCOUNT}`,
    `AccountKey=${AZURITE_KEY}`,
    `BlobEndpoint=http://${host}:${blobPort}/${AZURITE_ACCOUNT}`,
    `QueueEndpoint=http://${host}:${queuePort}/${AZURITE_ACCOUNT}`,
  ].join(';');
}
