/**
 * Whether a retry can help, error by error (no server): every StratusError says so in
 * `retryable`. Deterministic failures — configuration, protocol, plan, keys, records the codec
 * cannot carry, builders, empty collections, and what the user throws as NonRetryableError —
 * are not retryable; user exceptions, storage answers that may change and errors that are not
 * StratusErrors are. coerceError turns anything thrown into an Error, never undefined or null.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  coerceError,
  EmptyCollectionError,
  isRetryable,
  JobFailedError,
  NonRetryableError,
  ProtocolError,
  StratusError,
  UserCodeError,
} from '../../contract/errors.js';
import { parseTaskMessage } from '../../contract/protocol.js';
import type { Action } from '../../engine/dataset/actions.js';
import type { JobContext } from '../../engine/dataset/context.js';
import { defineJob } from '../../engine/dataset/job.js';
import * as stratus from '../../engine/index.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { isSamplingRequest, planJob } from '../../engine/plan/stages.js';
import { getCodec, RecordDecodingError, RecordEncodingError } from '../../engine/records/codec.js';
import { canonicalKey, InvalidKeyError } from '../../engine/records/keys.js';
import { BadRecordError } from '../../engine/records/record-formats.js';
import type { TaskIO } from '../../engine/task/task-io.js';
import { runTask } from '../../engine/task/task-runtime.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { BlobNotFoundError } from '../../storage/blob-store.js';

/** The error a one-action job built by `build` fails with in the in-memory runner. */
async function failureOf(build: (ctx: JobContext) => Action<unknown>): Promise<StratusError> {
  const error = await runJobInMemory(
    defineJob((ctx) => build(ctx)),
    undefined,
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StratusError);
  return error as StratusError;
}

/** The error `run` throws (fails the test when it throws none). */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('user code', () => {
  it('a user function that throws an Error fails its task with a retryable USER_CODE error, as Spark retries it', async () => {
    const error = await failureOf((ctx) =>
      ctx
        .parallelize([1, 2, 3], 1)
        .map((x) => {
          if (x === 2) throw new Error('flaky service');
          return x;
        })
        .collect(),
    );
    expect(error).toBeInstanceOf(UserCodeError);
    expect(error.code).toBe('USER_CODE');
    expect(error.retryable).toBe(true);
  });

  it('a user function that throws NonRetryableError fails its task with an error that is not retryable, naming the operation, with the user stack', async () => {
    function rejectRecord(x: number): number {
      if (x === 2) throw new NonRetryableError(`record ${x} is malformed`);
      return x;
    }
    const error = await failureOf((ctx) => ctx.parallelize([1, 2, 3], 1).map(rejectRecord).collect());
    expect(error.retryable).toBe(false);
    expect(error.code).toBe('USER_CODE');
    expect(error.message).toBe('map (node 1) threw: record 2 is malformed');
    expect(error.context.userStack).toMatch(/^NonRetryableError: record 2 is malformed\n/);
    expect(error.context.userStack).toContain('rejectRecord');
  });

  it('NonRetryableError is not retryable, has a stable code and is exported from stratus', () => {
    const cause = new Error('the row');
    const error = new NonRetryableError('bad row', { cause });
    expect(error.retryable).toBe(false);
    expect(error.code).toBe('NON_RETRYABLE');
    expect(error.name).toBe('NonRetryableError');
    expect(error.cause).toBe(cause);
    expect(stratus.NonRetryableError).toBe(NonRetryableError);
  });

  it('a UserCodeError is retryable unless constructed otherwise or wrapping a non-retryable StratusError', () => {
    expect(new UserCodeError('map', new Error('x')).retryable).toBe(true);
    expect(new UserCodeError('map', 'a thrown string').retryable).toBe(true);
    expect(new UserCodeError('map', new Error('x'), {}, { retryable: false }).retryable).toBe(false);
    expect(new UserCodeError('map', new NonRetryableError('x')).retryable).toBe(false);
    expect(new UserCodeError('map', new NonRetryableError('x'), {}, { retryable: true }).retryable).toBe(
      true,
    );
  });
});

describe('deterministic failures are not retryable', () => {
  it('a record the codec cannot encode (a function)', async () => {
    const error = await failureOf((ctx) =>
      ctx
        .parallelize([1, 2, 3], 1)
        .map((i) => [i, () => i] as [number, unknown])
        .groupByKey(2)
        .count(),
    );
    expect(error).toBeInstanceOf(RecordEncodingError);
    expect(error.retryable).toBe(false);
    const direct = thrownBy(() => getCodec().encode([Symbol('s')], 'map'));
    expect(direct).toBeInstanceOf(RecordEncodingError);
    expect((direct as StratusError).retryable).toBe(false);
  });

  it('a value used as a key that is not a key', async () => {
    const error = await failureOf((ctx) =>
      ctx
        .parallelize([1], 1)
        .map((x) => [{ not: 'a key' }, x] as unknown as [string, number])
        .reduceByKey((a, b) => a + b)
        .collect(),
    );
    expect(error).toBeInstanceOf(InvalidKeyError);
    expect(error.retryable).toBe(false);
    expect((thrownBy(() => canonicalKey(new Map())) as StratusError).retryable).toBe(false);
  });

  it('an action that needs a record on an empty dataset', async () => {
    const error = await failureOf((ctx) => ctx.parallelize([] as number[], 2).first());
    expect(error).toBeInstanceOf(EmptyCollectionError);
    expect(error.retryable).toBe(false);
  });

  it('a configuration error, whether a ConfigError or a CONFIG code thrown by the builder API', () => {
    expect(new ConfigError('bad flag').retryable).toBe(false);
    const error = thrownBy(() =>
      buildJobGraph(
        defineJob((ctx) => ctx.parallelize('not an array' as unknown as number[]).count()),
        undefined,
        { defaultParallelism: 2 },
      ),
    ) as StratusError;
    expect(error.code).toBe('CONFIG');
    expect(error.retryable).toBe(false);
  });

  it('a task message that does not match the protocol', () => {
    const error = thrownBy(() => parseTaskMessage({ v: 1, type: 'task' }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as StratusError).retryable).toBe(false);
  });

  it('a plan that does not match the job graph', () => {
    const graph = buildJobGraph(
      defineJob((ctx) => ctx.parallelize([1, 2], 1).count()),
      undefined,
      { defaultParallelism: 2 },
    );
    for (const error of [thrownBy(() => graph.node(99)), thrownBy(() => graph.action('nope'))]) {
      expect(error).toBeInstanceOf(StratusError);
      expect((error as StratusError).retryable).toBe(false);
    }
  });

  it('a builder that builds a different graph on an executor than on the driver', async () => {
    const graph = buildJobGraph(
      defineJob((ctx) => ctx.parallelize([1, 2], 1).count()),
      undefined,
      { defaultParallelism: 2 },
    );
    const plan = planJob(graph, 'result');
    if (isSamplingRequest(plan)) throw new Error('unexpected sampling request');
    const error = (await runTask(graph, plan.stages[0]!, 0, {} as TaskIO, {
      fingerprint: 'the driver built another graph',
    }).catch((e: unknown) => e)) as StratusError;
    expect(error.code).toBe('NONDETERMINISTIC_BUILDER');
    expect(error.retryable).toBe(false);
  });

  it('a malformed input record under the fail policy', () => {
    const error = new BadRecordError('in.jsonl: line 3 is not JSON', 0, {
      file: 'in.jsonl',
      byteOffset: 10,
      line: 3,
    });
    expect(error.retryable).toBe(false);
  });

  it('a StratusError thrown with a code of its own, unless constructed retryable', () => {
    expect(new StratusError('PLAN_MISMATCH', 'no such node').retryable).toBe(false);
    expect(new StratusError('SOMETHING_TRANSIENT', 'try again', {}, { retryable: true }).retryable).toBe(
      true,
    );
    expect(new ProtocolError('late', {}, { retryable: true }).retryable).toBe(true);
  });

  it('a failed job: the task scheduler already retried what a retry could fix', () => {
    expect(new JobFailedError('job 0 aborted').retryable).toBe(false);
  });
});

describe('what may pass on a retry is retryable', () => {
  it('a missing blob, which storage may yet hold, and bytes read from storage that do not decode', () => {
    expect(new BlobNotFoundError('stratus-data', 'apps/a/x').retryable).toBe(true);
    const error = thrownBy(() => getCodec('json-batches').decode(Buffer.from('not a batch\n')));
    expect(error).toBeInstanceOf(RecordDecodingError);
    expect((error as StratusError).retryable).toBe(true);
  });

  it('an error that is not a StratusError: the storage SDK, the network, an internal invariant, a thrown value', () => {
    const throttled = Object.assign(new Error('Server Busy'), { statusCode: 503 });
    for (const error of [
      throttled,
      new TypeError('fetch failed'),
      new Error('internal'),
      'a string',
      undefined,
    ]) {
      expect(isRetryable(error)).toBe(true);
    }
    expect(isRetryable(new NonRetryableError('no'))).toBe(false);
  });
});

describe('coerceError', () => {
  it('gives an Error back as it is', () => {
    const error = new RangeError('out of range');
    expect(coerceError(error)).toBe(error);
    const stratusError = new NonRetryableError('no');
    expect(coerceError(stratusError)).toBe(stratusError);
  });

  it('makes a thrown string the message', () => {
    const error = coerceError('bad row');
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('bad row');
  });

  it('describes any other thrown value and keeps it as the cause', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const cases: [unknown, string][] = [
      [undefined, 'non-Error thrown: undefined'],
      [null, 'non-Error thrown: null'],
      [42, 'non-Error thrown: 42'],
      [10n, 'non-Error thrown: 10'],
      [{ code: 7 }, 'non-Error thrown: {"code":7}'],
      [cycle, 'non-Error thrown: [object Object]'],
    ];
    for (const [value, message] of cases) {
      const error = coerceError(value);
      expect(error.message).toBe(message);
      expect(error.cause).toBe(value);
    }
  });

  it('never returns undefined or null, whatever was thrown (the Functions worker counts those as success)', () => {
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withBoxedValues: true, withNullPrototype: true }),
        (value) => {
          const error = coerceError(value);
          expect(error).toBeInstanceOf(Error);
          expect(typeof error.message).toBe('string');
        },
      ),
      { numRuns: 300 },
    );
  });
});
