/**
 * Telling "no storage service answers at this endpoint" apart from every other storage error,
 * from the fields the storage SDK's RestError carries (code, request.url).
 */
import { describe, expect, it } from 'vitest';
import { StratusError } from '../../contract/errors.js';
import { asStorageUnreachable, StorageUnreachableError } from '../../storage/unreachable.js';

/** An error shaped as the SDK's RestError for a request that could not connect. */
function socketError(code: string, url: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code, request: { url } });
}

describe('asStorageUnreachable', () => {
  it('names a loopback endpoint without its path or query, and says to start stratus local', () => {
    const error = asStorageUnreachable(
      socketError('ECONNREFUSED', 'http://127.0.0.1:10001/devstoreaccount1/stratus-tasks?sv=secret'),
    );
    expect(error).toBeInstanceOf(StorageUnreachableError);
    expect(error).toBeInstanceOf(StratusError);
    expect(error?.code).toBe('STORAGE_UNREACHABLE');
    expect(error?.retryable).toBe(true);
    expect(error?.message).toContain('no storage service answers at http://127.0.0.1:10001 (ECONNREFUSED)');
    expect(error?.message).toContain('stratus local');
    expect(error?.message).not.toContain('secret');
  });

  it('points at the account name for a host that does not resolve, and finds the error inside a wrapper', () => {
    const inner = socketError('ENOTFOUND', 'https://nosuchaccount.queue.core.windows.net/stratus-tasks');
    const error = asStorageUnreachable(new Error('starting the application failed', { cause: inner }));
    expect(error?.message).toContain('https://nosuchaccount.queue.core.windows.net (ENOTFOUND)');
    expect(error?.message).toContain('check the account name');
  });

  it('leaves every other error alone', () => {
    expect(
      asStorageUnreachable(Object.assign(new Error('forbidden'), { code: 'AuthorizationFailure' })),
    ).toBe(undefined);
    expect(asStorageUnreachable(new Error('ECONNREFUSED without a request'))).toBe(undefined);
    expect(asStorageUnreachable('a string')).toBe(undefined);
  });
});
