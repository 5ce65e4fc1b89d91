/**
 * Protocol v1, the contract between driver and executors: every message kind survives the wire
 * encoding (base64 of JSON, the Functions host's default messageEncoding) unchanged; a wrong
 * version, a missing field or a field of the wrong type is refused naming the field; messages
 * stay below the 64 KiB queue limit; a bare string or number is never a message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../contract/errors.js';
import {
  decodeWire,
  type ExecutorEventInput,
  encodeExecutorEvent,
  encodeTaskMessage,
  encodeWire,
  failureIsRetryable,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  parseExecutorEvent,
  parseTaskMessage,
  type TaskMessageInput,
} from '../../contract/protocol.js';

/** Azure Storage's limit on one queue message (the base64 text is what is stored). */
const AZURE_QUEUE_MESSAGE_LIMIT = 64 * 1024;
const HASH = 'ab'.repeat(32);

/** The wire text of `value` as an independent base64-of-JSON encoder writes it. */
const wireOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

const stageTask = {
  v: 1,
  type: 'task',
  appId: 'app-1',
  jobId: 2,
  stageId: 3,
  partition: 4,
  attempt: 1,
  eventsQueue: 'stratus-events-app-1',
  sentAt: 1_717_000_000_123,
  work: { kind: 'stage', codeHash: HASH, stageBlob: 'apps/app-1/jobs/2/stage-3.json' },
  signature: 'cd'.repeat(32),
} as const;

const noopTask = {
  ...stageTask,
  work: { kind: 'noop', sleepMs: 5, busyMs: 0, failUntilDequeue: 2 },
  signature: undefined,
} as const;

const eventBase = {
  v: 1,
  appId: 'app-1',
  jobId: 2,
  stageId: 3,
  partition: 4,
  attempt: 1,
  executorId: 'executor-1',
  slot: 0,
  at: 1_717_000_000_456,
  dequeueCount: 1,
} as const;

const metrics = {
  durationMs: 12.5,
  recordsRead: 10,
  recordsWritten: 9,
  bytesRead: 100,
  bytesWritten: 90,
  shuffleReadBytes: 0,
  shuffleWriteBytes: 90,
  peakMemoryBytes: 4096,
  spillCount: 0,
  spillBytes: 0,
  cachedFromMemory: 0,
  cachedFromDisk: 0,
  cachedFromBlob: 2,
  cachedComputed: 1,
};

const events = {
  started: { ...eventBase, type: 'task-started' },
  heartbeat: { ...eventBase, type: 'task-heartbeat' },
  succeededMap: {
    ...eventBase,
    type: 'task-succeeded',
    metrics,
    segmentSizes: [10, 0, 80],
    mapOutputBlob: 'apps/app-1/run-0/shuffle/0/map-4-a1.bin',
    accumulators: { 'badRecords:az://c/f.csv': 3 },
    cachedPartitions: [{ nodeId: 5, partition: 4, blob: 'apps/app-1/cache/5/4', records: 9, bytes: 90 }],
  },
  succeededResult: {
    ...eventBase,
    type: 'task-succeeded',
    metrics,
    result: { inline: [['word', 3], { nested: [null, true, 'é'] }] },
  },
  succeededBlobResult: {
    ...eventBase,
    type: 'task-succeeded',
    metrics,
    result: { blob: 'apps/app-1/results/2-4', bytes: 123_456, records: 77 },
  },
  failed: {
    ...eventBase,
    type: 'task-failed',
    error: {
      name: 'UserCodeError',
      message: 'map threw: boom',
      stack: 'Error: boom\n    at f (job.ts:3:9)',
      code: 'USER_CODE',
    },
    retryable: false,
    fatal: true,
  },
  killed: {
    ...eventBase,
    type: 'task-killed',
    reason: 'another attempt of partition 4 succeeded',
    runMs: 5344.5,
  },
  interrupted: {
    ...eventBase,
    type: 'task-interrupted',
    reason: 'executor is shutting down',
    runMs: 2210.25,
  },
} as const;

/** The ProtocolError that `run` throws (fails the test when it does not throw one). */
function protocolError(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

describe('wire round trip', () => {
  it('every task message kind comes back from its wire text as it was sent', () => {
    for (const message of [stageTask, noopTask]) {
      const wire = encodeTaskMessage(message as TaskMessageInput);
      expect(wire).toBe(wireOf(JSON.parse(JSON.stringify(message))));
      expect(parseTaskMessage(decodeWire(wire))).toEqual(JSON.parse(JSON.stringify(message)));
    }
  });

  it('every executor event kind comes back from its wire text as it was sent', () => {
    for (const event of Object.values(events)) {
      const wire = encodeExecutorEvent(event as ExecutorEventInput);
      expect(parseExecutorEvent(decodeWire(wire))).toEqual(event);
    }
  });

  it('fields left out by a sender take their documented defaults', () => {
    const sent = { ...noopTask, work: { kind: 'noop' } } as TaskMessageInput;
    expect(parseTaskMessage(decodeWire(encodeTaskMessage(sent))).work).toEqual({
      kind: 'noop',
      sleepMs: 0,
      busyMs: 0,
      failUntilDequeue: 0,
    });
    const failed = { ...events.failed, retryable: undefined, fatal: undefined } as ExecutorEventInput;
    expect(parseExecutorEvent(decodeWire(encodeExecutorEvent(failed)))).toMatchObject({ fatal: false });
    const succeeded = {
      ...eventBase,
      type: 'task-succeeded',
      metrics: { durationMs: 1 },
    } as ExecutorEventInput;
    expect(parseExecutorEvent(decodeWire(encodeExecutorEvent(succeeded)))).toMatchObject({
      metrics: Object.fromEntries(Object.keys(metrics).map((k) => [k, k === 'durationMs' ? 1 : 0])),
    });
  });
});

describe('whether a failed attempt may be retried', () => {
  /** A task-failed event as it arrives, with `fields` over the sample's retryable and fatal. */
  const arrived = (fields: { retryable?: boolean; fatal?: boolean }) => {
    const { retryable: _r, fatal: _f, ...rest } = events.failed;
    const event = parseExecutorEvent(decodeWire(wireOf({ ...rest, ...fields })));
    if (event.type !== 'task-failed') throw new Error(`expected task-failed, got ${event.type}`);
    return event;
  };

  it('a task-failed event says so in retryable, which wins over fatal', () => {
    expect(failureIsRetryable(arrived({ retryable: false, fatal: true }))).toBe(false);
    expect(failureIsRetryable(arrived({ retryable: true, fatal: false }))).toBe(true);
    expect(failureIsRetryable(arrived({ retryable: true, fatal: true }))).toBe(true);
  });

  it('the event of an executor that sends only fatal still parses in version 1, retryable unless fatal', () => {
    const older = arrived({ fatal: true });
    expect(older.v).toBe(PROTOCOL_VERSION);
    expect(older.retryable).toBeUndefined();
    expect(failureIsRetryable(older)).toBe(false);
    expect(failureIsRetryable(arrived({ fatal: false }))).toBe(true);
    expect(failureIsRetryable(arrived({}))).toBe(true);
  });
});

describe('validation names what is wrong', () => {
  it('refuses another protocol version, naming the field and both versions', () => {
    const error = protocolError(() => parseTaskMessage({ ...stageTask, v: PROTOCOL_VERSION + 1 }));
    expect(error.context.field).toBe('v');
    expect(error.message).toContain(`version ${PROTOCOL_VERSION + 1}`);
    expect(error.message).toContain(`expected version ${PROTOCOL_VERSION}`);
    const event = protocolError(() => parseExecutorEvent({ ...events.started, v: 0 }));
    expect(event.context.field).toBe('v');
  });

  it('refuses a message missing a field, naming it', () => {
    const { partition: _partition, ...noPartition } = stageTask;
    const error = protocolError(() => parseTaskMessage(noPartition));
    expect(error.context.field).toBe('partition');
    expect(error.message).toMatch(/^invalid task message: partition: /);
    const { executorId: _id, ...noExecutor } = events.started;
    expect(protocolError(() => parseExecutorEvent(noExecutor)).context.field).toBe('executorId');
    const { codeHash: _hash, ...work } = stageTask.work;
    expect(protocolError(() => parseTaskMessage({ ...stageTask, work })).context.field).toBe('work.codeHash');
  });

  it('refuses a field of the wrong type, naming it', () => {
    const cases: [unknown, string][] = [
      [{ ...stageTask, partition: '4' }, 'partition'],
      [{ ...stageTask, attempt: -1 }, 'attempt'],
      [{ ...stageTask, jobId: 1.5 }, 'jobId'],
      [{ ...stageTask, appId: 'Has Spaces' }, 'appId'],
      [{ ...stageTask, work: { ...stageTask.work, codeHash: 'not-hex' } }, 'work.codeHash'],
      [{ ...stageTask, work: { kind: 'shell', command: 'rm -rf /' } }, 'work.kind'],
    ];
    for (const [message, field] of cases) {
      const error = protocolError(() => parseTaskMessage(message));
      expect(error.context.field, JSON.stringify(message)).toBe(field);
      expect(error.message).toContain(`${field}: `);
    }
    const badMetrics = { ...events.succeededMap, metrics: { ...metrics, spillCount: 'none' } };
    expect(protocolError(() => parseExecutorEvent(badMetrics)).context.field).toBe('metrics.spillCount');
    expect(
      protocolError(() => parseExecutorEvent({ ...events.started, type: 'task-exploded' })).context.field,
    ).toBe('type');
  });

  it('never takes a bare string or number for a message', () => {
    // The Functions worker JSON-parses every body it can: `89e7073266` arrives as a number.
    for (const body of ['"89e7073266"', '89e7073266', 'null', '[1,2]', 'true']) {
      const value = decodeWire(Buffer.from(body).toString('base64'));
      expect(protocolError(() => parseTaskMessage(value)).message).toMatch(
        /^task message must be a JSON object/,
      );
      expect(protocolError(() => parseExecutorEvent(value)).message).toMatch(
        /^executor event must be a JSON object/,
      );
    }
    expect(protocolError(() => encodeWire('a string' as unknown as object)).message).toContain(
      'must be a JSON object, got a string',
    );
  });

  it('refuses wire text that is not base64, or base64 that is not JSON', () => {
    expect(protocolError(() => decodeWire('{"v":1}')).message).toBe('queue message is not valid base64');
    expect(protocolError(() => decodeWire('abc')).message).toBe('queue message is not valid base64');
    expect(protocolError(() => decodeWire(Buffer.from('{not json').toString('base64'))).message).toBe(
      'queue message is base64 but not JSON',
    );
  });
});

describe('size limit', () => {
  /** A stage task whose wire text is about `bytes` long (the blob name pads it). */
  const taskOfSize = (padding: number): TaskMessageInput => ({
    ...stageTask,
    work: { ...stageTask.work, stageBlob: `b${'x'.repeat(padding)}` },
  });

  it('stays below the 64 KiB queue message limit, base64 included', () => {
    expect(MAX_MESSAGE_BYTES).toBeLessThan(AZURE_QUEUE_MESSAGE_LIMIT);
    // The largest message the encoder accepts, found by search, is at most MAX_MESSAGE_BYTES on the wire.
    let low = 0;
    let high = MAX_MESSAGE_BYTES;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      try {
        encodeTaskMessage(taskOfSize(mid));
        low = mid;
      } catch {
        high = mid - 1;
      }
    }
    const largest = encodeTaskMessage(taskOfSize(low));
    expect(largest.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    // base64 grows in steps of 4 characters per 3 bytes: one step more is over the limit.
    expect(largest.length).toBeGreaterThan(MAX_MESSAGE_BYTES - 4);
    const error = protocolError(() => encodeTaskMessage(taskOfSize(low + 3)));
    expect(error.message).toContain(`exceeds the ${MAX_MESSAGE_BYTES}-byte limit`);
    expect(error.message).toContain('must go to a blob');
  });

  it('refuses an event whose inline result would not fit, asking for a blob', () => {
    const big = { ...events.succeededResult, result: { inline: 'é'.repeat(MAX_MESSAGE_BYTES) } };
    expect(protocolError(() => encodeExecutorEvent(big as ExecutorEventInput)).message).toContain(
      'must go to a blob',
    );
  });
});

describe('property: any valid message survives the wire', () => {
  const nat = fc.nat({ max: 1_000_000 });
  const appIdArb = fc.stringMatching(/^[a-z0-9-]{3,48}$/);
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: 0 }).map((x) => (x === 0 ? 0 : x));
  const taskArb = fc.record(
    {
      v: fc.constant(1 as const),
      type: fc.constant('task' as const),
      appId: appIdArb,
      jobId: nat,
      stageId: nat,
      partition: nat,
      attempt: nat,
      eventsQueue: fc.stringMatching(/^[a-z0-9-]{3,63}$/),
      sentAt: fc.integer({ min: 0, max: 2 ** 45 }),
      work: fc.oneof(
        fc.record({ kind: fc.constant('noop' as const), sleepMs: nat, busyMs: nat, failUntilDequeue: nat }),
        fc.record({
          kind: fc.constant('stage' as const),
          codeHash: fc.stringMatching(/^[0-9a-f]{64}$/),
          stageBlob: fc.string({ minLength: 1, maxLength: 200 }),
        }),
      ),
      signature: fc.stringMatching(/^[0-9a-f]{64}$/),
    },
    {
      requiredKeys: [
        'v',
        'type',
        'appId',
        'jobId',
        'stageId',
        'partition',
        'attempt',
        'eventsQueue',
        'sentAt',
        'work',
      ],
    },
  );
  const base = {
    v: fc.constant(1 as const),
    appId: appIdArb,
    jobId: nat,
    stageId: nat,
    partition: nat,
    attempt: nat,
    executorId: fc.string({ minLength: 1, maxLength: 40 }),
    slot: fc.nat({ max: 64 }),
    at: fc.integer({ min: 0, max: 2 ** 45 }),
    dequeueCount: fc.nat({ max: 10 }),
  };
  const metricsArb = fc.record({
    durationMs: finite,
    recordsRead: nat,
    recordsWritten: nat,
    bytesRead: nat,
    bytesWritten: nat,
    shuffleReadBytes: nat,
    shuffleWriteBytes: nat,
    peakMemoryBytes: nat,
    spillCount: nat,
    spillBytes: nat,
    cachedFromMemory: nat,
    cachedFromDisk: nat,
    cachedFromBlob: nat,
    cachedComputed: nat,
  });
  const eventArb = fc.oneof(
    fc.record({ ...base, type: fc.constantFrom('task-started' as const, 'task-heartbeat' as const) }),
    fc.record(
      {
        ...base,
        type: fc.constant('task-succeeded' as const),
        metrics: metricsArb,
        segmentSizes: fc.array(nat, { maxLength: 16 }),
        mapOutputBlob: fc.string({ maxLength: 80 }),
        result: fc.oneof(
          fc.record({ inline: fc.jsonValue({ maxDepth: 3 }) }),
          fc.record({ blob: fc.string({ minLength: 1, maxLength: 80 }), bytes: nat, records: nat }),
        ),
        accumulators: fc.dictionary(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 }), {
          maxKeys: 4,
        }),
      },
      {
        requiredKeys: [
          'v',
          'appId',
          'jobId',
          'stageId',
          'partition',
          'attempt',
          'executorId',
          'slot',
          'at',
          'dequeueCount',
          'type',
          'metrics',
        ],
      },
    ),
    fc.record({
      ...base,
      type: fc.constant('task-failed' as const),
      error: fc.record(
        { name: fc.string(), message: fc.string(), stack: fc.string(), code: fc.string() },
        { requiredKeys: ['name', 'message'] },
      ),
      retryable: fc.boolean(),
      fatal: fc.boolean(),
    }),
    fc.record({
      ...base,
      type: fc.constantFrom('task-killed' as const, 'task-interrupted' as const),
      reason: fc.string(),
      runMs: fc.double({ min: 0, max: 1e9, noNaN: true }),
    }),
  );

  it('task messages', () => {
    fc.assert(
      fc.property(taskArb, (message) => {
        const wire = encodeTaskMessage(message);
        expect(wire).toBe(wireOf(message));
        expect(parseTaskMessage(decodeWire(wire))).toEqual(message);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps an accumulator update whose name is "__proto__" (fast-check found it dropped)', () => {
    const text = JSON.stringify({ ...events.succeededMap, accumulators: {} }).replace(
      '"accumulators":{}',
      '"accumulators":{"__proto__":5}',
    );
    const parsed = parseExecutorEvent(JSON.parse(text)) as { accumulators?: Record<string, unknown> };
    expect(Object.hasOwn(parsed.accumulators ?? {}, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(parsed.accumulators, '__proto__')?.value).toBe(5);
  });

  it('executor events', () => {
    fc.assert(
      fc.property(eventArb, (event) => {
        // What a plain JSON round trip gives is the reference (it drops nothing a valid event has).
        const reference = JSON.parse(JSON.stringify(event));
        expect(parseExecutorEvent(decodeWire(encodeExecutorEvent(event)))).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });
});
