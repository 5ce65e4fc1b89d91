/**
 * What an executor reports of a failed task (no server): `retryable` comes from the error it
 * caught, the stack is the user's own when user code threw, and what the handler throws back
 * to the host is always an Error, as retryable as the task's error.
 */
import { describe, expect, it } from 'vitest';
import {
  asUserCodeError,
  NonRetryableError,
  ShuffleOutputMissingError,
  type StratusError,
} from '../../contract/errors.js';
import { RecordEncodingError } from '../../engine/records/codec.js';
import {
  BlobTamperedError,
  NonRetryableTaskError,
  serializeTaskError,
  TaskAttemptFailedError,
} from '../../executor-function/task-errors.js';

/** What user code in a map closure throws, as the engine hands it on. */
function userFailure(thrown: unknown): StratusError {
  return asUserCodeError('map (node 1)', thrown);
}

describe('task-failed errors', () => {
  it('say a retry can help for a user exception, a storage error and a thrown non-Error', () => {
    const storage = Object.assign(new Error('Server Busy'), { statusCode: 503 });
    for (const thrown of [userFailure(new Error('flaky')), storage, undefined, 'a string']) {
      expect(serializeTaskError(thrown).retryable).toBe(true);
    }
  });

  it('say a retry cannot help for NonRetryableError, an unencodable record, a bad descriptor and a tampered blob', () => {
    const cases = [
      userFailure(new NonRetryableError('bad row')),
      new RecordEncodingError('map (node 1)', 'a bigint'),
      new NonRetryableTaskError('stage descriptor stratus-data/x does not exist'),
      new BlobTamperedError('stage descriptor altered', 'stratus-data/x'),
    ];
    for (const error of cases) expect(serializeTaskError(error).retryable, error.name).toBe(false);
  });

  it('carry the user’s own stack for an error from user code, quoting the message once', () => {
    function parseRow(): never {
      throw new NonRetryableError('row 13 has no id');
    }
    let thrown: unknown;
    try {
      parseRow();
    } catch (error) {
      thrown = userFailure(error);
    }
    const serialized = serializeTaskError(thrown);
    expect(serialized).toMatchObject({
      name: 'UserCodeError',
      message: 'map (node 1) threw: row 13 has no id',
      code: 'USER_CODE',
      retryable: false,
    });
    expect(serialized.stack).toMatch(/^NonRetryableError: row 13 has no id\n/);
    expect(serialized.stack).toContain('parseRow');
    expect(serialized.stack?.split('row 13 has no id')).toHaveLength(2);
  });

  it('name the shuffle of a missing map output, so the driver can rerun its map stage', () => {
    const error = serializeTaskError(
      new ShuffleOutputMissingError(3, 'apps/a/run-0/shuffle/3/map-1-a0-d1-x.bin', 'blob not found'),
    );
    expect(error).toMatchObject({ code: 'SHUFFLE_OUTPUT_MISSING', shuffleId: 3, retryable: false });
    expect(serializeTaskError(new Error('x')).shuffleId).toBeUndefined();
  });

  it('carry a wrapped error’s stack with its cause’s', () => {
    const cause = new Error('the builder read the clock');
    const serialized = serializeTaskError(new NonRetryableTaskError('the builder threw', { cause }));
    expect(serialized.stack).toMatch(/^NonRetryableTaskError: the builder threw\n/);
    expect(serialized.stack).toContain('\nCaused by: Error: the builder read the clock\n');
  });
});

describe('what the handler throws to the host', () => {
  it('is an Error as retryable as the task’s error', () => {
    for (const retryable of [true, false]) {
      const error = new TaskAttemptFailedError('j0-s1-p2-a0', {
        name: 'UserCodeError',
        message: 'map threw: x',
        retryable,
      });
      expect(error).toBeInstanceOf(Error);
      expect(error.retryable).toBe(retryable);
      expect(error.message).toBe('task j0-s1-p2-a0 failed: UserCodeError: map threw: x');
    }
  });
});
