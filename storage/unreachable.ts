/**
 * A storage endpoint that does not answer at all — nothing listens on the port (a `stratus
 * local` that is not running), or the host name does not resolve (a mistyped account) — told
 * apart from every other storage failure, so the user reads where we tried and what to do
 * instead of the SDK's `RestError: connect ECONNREFUSED …` stack.
 */
import { StratusError } from '../contract/errors.js';

/** Socket errors that mean no storage service could be reached at the endpoint. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * No storage service answered at `endpoint`. Retryable: once the fabric is started (or the
 * network is back), the same command succeeds.
 */
export class StorageUnreachableError extends StratusError {
  /** The endpoint we tried (scheme, host and port; never a key or SAS token). */
  readonly endpoint: string;

  constructor(endpoint: string, socketCode: string, cause: unknown) {
    const loopback = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(endpoint);
    const hint = loopback
      ? 'is `stratus local` running? Start it (`npx stratus local`) and use the connection string it prints, or unset STRATUS_CONNECTION / --connection-string to let `stratus run` start a local fabric of its own'
      : 'check the account name or connection string (STRATUS_ACCOUNT / STRATUS_CONNECTION) and your network';
    super(
      'STORAGE_UNREACHABLE',
      `no storage service answers at ${endpoint} (${socketCode}): ${hint}`,
      {},
      {
        cause,
        retryable: true,
      },
    );
    this.name = 'StorageUnreachableError';
    this.endpoint = endpoint;
  }
}

/** The endpoint of the request `error` failed on, as `scheme://host:port`, when the SDK recorded it. */
function requestEndpoint(error: { request?: { url?: unknown } }): string | undefined {
  const url = error.request?.url;
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * `error` as a StorageUnreachableError when it (or an error it wraps) is a storage request that
 * could not connect; undefined for every other error, which the caller reports as it is.
 */
export function asStorageUnreachable(error: unknown): StorageUnreachableError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof StorageUnreachableError) return e;
    const failed = e as Error & { code?: unknown; request?: { url?: unknown } };
    if (typeof failed.code === 'string' && UNREACHABLE_CODES.has(failed.code)) {
      const endpoint = requestEndpoint(failed);
      if (endpoint !== undefined) return new StorageUnreachableError(endpoint, failed.code, error);
    }
  }
  return undefined;
}
