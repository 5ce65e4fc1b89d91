/**
 * Speculation is bounded by the fabric's free slots, counted over the whole application: the
 * attempts running in other stages (a join's two sides, concurrent jobs) take slots too, so a
 * straggler gets its copy only while the application as a whole runs fewer attempts than slots.
 * The task sets send real messages to a queue on Azurite that no executor serves; executor
 * events are handed to them directly, with the clock given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorEventInput, TaskMessageInput } from '../../contract/protocol.js';
import {
  decodeWire,
  PROTOCOL_VERSION,
  parseExecutorEvent,
  type TaskMessage,
} from '../../contract/protocol.js';
import { DEFAULT_TASK_SET_OPTIONS, TaskSetManager } from '../../driver/scheduler/task-set.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { suiteConnectionString, uniqueTaskQueue } from '../helpers/fabric.js';

const APP = 'app-specslots-0a0b0c0d';
let queue: StorageQueue;

beforeAll(async () => {
  queue = new StorageQueue(
    connectStorage({ connectionString: suiteConnectionString() }),
    uniqueTaskQueue('spec'),
  );
  await queue.ensure();
});

afterAll(async () => {
  await queue?.destroy();
});

function message(stageId: number, partition: number, attempt: number): TaskMessageInput {
  return {
    v: PROTOCOL_VERSION,
    type: 'task',
    appId: APP,
    jobId: 0,
    stageId,
    partition,
    attempt,
    eventsQueue: `stratus-events-${APP}`,
    sentAt: 0,
    work: { kind: 'noop' },
  };
}

function event(stageId: number, partition: number, type: 'task-started' | 'task-succeeded', at: number) {
  const input: ExecutorEventInput = {
    v: PROTOCOL_VERSION,
    type,
    appId: APP,
    jobId: 0,
    stageId,
    partition,
    attempt: 0,
    executorId: `executor-${stageId}`,
    slot: partition,
    at,
    dequeueCount: 1,
    ...(type === 'task-succeeded' ? { metrics: { durationMs: 10 } } : {}),
  } as ExecutorEventInput;
  return parseExecutorEvent(input);
}

describe('speculation and free slots', () => {
  it('a straggler gets no copy while other stages hold every slot, and gets one as soon as a slot frees', async () => {
    const sets: TaskSetManager[] = [];
    const options = { ...DEFAULT_TASK_SET_OPTIONS, totalSlots: 4 };
    const make = (stageId: number, partitions: number) => {
      const set = new TaskSetManager(
        0,
        stageId,
        Array.from({ length: partitions }, (_, p) => p),
        queue,
        {
          makeMessage: (p, a) => message(stageId, p, a),
          onTaskSucceeded: () => undefined,
          runningAttemptsOfApplication: () => sets.reduce((n, s) => n + s.runningAttemptCount, 0),
        },
        options,
      );
      sets.push(set);
      return set;
    };
    // Stage 1: four tasks, three finish in 100 ms, partition 3 keeps running (a straggler).
    // Stage 2, at the same time: three long tasks on the other three slots.
    const straggling = make(1, 4);
    const other = make(2, 3);
    await Promise.all([straggling.launch(), other.launch()]);
    const t0 = 1_000_000;
    for (let p = 0; p < 4; p++) straggling.handle(event(1, p, 'task-started', t0), t0);
    for (let p = 0; p < 3; p++) straggling.handle(event(1, p, 'task-succeeded', t0 + 100), t0 + 100);
    for (let p = 0; p < 3; p++) other.handle(event(2, p, 'task-started', t0 + 100), t0 + 100);

    // Long past 3 × the median and the 1 s minimum, but 1 + 3 attempts run on 4 slots: no copy.
    const late = t0 + 10_000;
    expect(straggling.runningAttemptCount).toBe(1);
    expect(await straggling.checkSpeculatableTasks(late)).toBe(0);
    expect(await queue.approximateLength()).toBe(7);

    // One task of stage 2 ends: a slot is free, and the straggler's copy is sent.
    other.handle(event(2, 0, 'task-succeeded', late), late);
    expect(await straggling.checkSpeculatableTasks(late + 100)).toBe(1);
    const sent = (await queue.peek(32)).map((m) => decodeWire(m.text) as TaskMessage);
    expect(sent).toHaveLength(8);
    expect(sent.filter((m) => m.attempt > 0).map((m) => [m.stageId, m.partition, m.attempt])).toEqual([
      [1, 3, 1],
    ]);
    for (const s of sets) s.abort(new Error('test over'));
  });
});
