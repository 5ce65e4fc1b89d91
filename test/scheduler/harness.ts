/**
 * A DAGScheduler wired to fakes, as Spark's DAGSchedulerSuite wires its scheduler to a fake
 * backend and a manual clock: an in-memory task queue, in-memory blobs, a recording run
 * listener and a ManualClock. Executors are simulated by taking task messages off the fake
 * queue and feeding the executor events they would send into `handleEvent`. Nothing here
 * touches a server or the real clock; `settle` lets the scheduler's promise chains (which
 * only ever wait on these fakes) run to their next wait for an event.
 */
import { DATA_CONTAINER } from '../../contract/names.js';
import {
  type ExecutorEvent,
  type ExecutorEventInput,
  PROTOCOL_VERSION,
  parseExecutorEvent,
  type TaskMessage,
} from '../../contract/protocol.js';
import { DAGScheduler } from '../../driver/scheduler/dag-scheduler.js';
import type { JobOutcome, RunState } from '../../driver/scheduler/run-state.js';
import { newRunState } from '../../driver/scheduler/run-state.js';
import { DEFAULT_TASK_SET_OPTIONS, type TaskSetOptions } from '../../driver/scheduler/task-set.js';
import { FakeTaskQueue } from '../../driver/testing/fake-task-queue.js';
import { ManualClock } from '../../driver/testing/manual-clock.js';
import { MemoryBlobs } from '../../driver/testing/memory-blobs.js';
import { RecordingListener } from '../../driver/testing/recording-listener.js';
import type { JobDefinition } from '../../engine/dataset/job.js';
import { buildJobGraph, SINGLE_ACTION_NAME } from '../../engine/plan/graph.js';
import { DEFAULT_CODEC_NAME } from '../../engine/records/codec.js';

/** The application id every harness runs under. */
export const APP_ID = 'app-unit-0a0b0c0d';
const CODE_HASH = 'c0de'.repeat(16);

/** What the simulated executor needs from a stage's descriptor. */
interface StageInfo {
  kind: 'shuffle-map' | 'result';
  scope: string;
  shuffleId?: number;
  numReducePartitions?: number;
}

/** How a simulated success reports its output. */
export interface SuccessOptions {
  /** Result stages: the inline partial (default: 1, a count partial). */
  result?: unknown;
  /** Map stages: the size of each reduce segment (default 10 bytes each). */
  segmentSizes?: number[];
}

/** A DAG scheduler with fake ports, a manual clock, and a simulated executor. */
export class SchedulerHarness {
  readonly clock = new ManualClock();
  readonly queue = new FakeTaskQueue();
  readonly blobs = new MemoryBlobs();
  readonly listener = new RecordingListener();
  readonly scheduler: DAGScheduler;
  private runs = 0;
  private readonly dequeues = new Map<string, number>();

  constructor(taskSet: Partial<TaskSetOptions> = {}) {
    this.scheduler = new DAGScheduler({
      appId: APP_ID,
      taskQueue: this.queue,
      eventsQueue: `stratus-events-${APP_ID}`,
      listener: this.listener,
      taskSet: { ...DEFAULT_TASK_SET_OPTIONS, ...taskSet },
      clock: this.clock,
      blobs: this.blobs,
      memoryBudgetBytes: 64 * 1024 * 1024,
      inlineResultMaxBytes: 16 * 1024,
      maxResultBytes: 1024 * 1024,
      codec: DEFAULT_CODEC_NAME,
    });
  }

  /** The run state of a job module built with no params, as `driver.run` builds it. */
  runState(job: JobDefinition<undefined>, defaultParallelism = 2): RunState {
    const graph = buildJobGraph(job, undefined, { defaultParallelism });
    const runIndex = this.runs++;
    return newRunState(
      { blobs: this.blobs },
      {
        scope: `${APP_ID}/run-${runIndex}`,
        runIndex,
        module: 'unit-job.ts',
        graph,
        codeHash: CODE_HASH,
        params: null,
        defaultParallelism,
        inputs: new Map(),
        sourcePartitions: new Map(),
        broadcasts: new Map(),
      },
    );
  }

  /**
   * Start the job of the run's (single) action; the returned promise settles when the job
   * ends. A rejection is also observed here, so a test that never awaits it stays quiet.
   */
  runAction(state: RunState, action = SINGLE_ACTION_NAME): Promise<JobOutcome> {
    const job = this.scheduler.runAction(state, { name: action }, action);
    job.catch(() => undefined);
    return job;
  }

  /** Let every promise chain the scheduler started run until it waits for an executor event. */
  async settle(): Promise<void> {
    // The fakes resolve at once, so the whole chain runs in microtasks; one macrotask turn
    // drains them all. This waits for no time: nothing here uses a real timer.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * Move the manual clock by `ms`, firing the scheduler's periodic checks on the way, and
   * settle after each instant a timer fires: real timers are macrotasks, so the promise chains
   * a check starts run before the next check does (firing them all at once would let checks
   * overlap in a way the system clock never makes them).
   */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    for (let due = this.clock.nextTimerAt; due !== undefined && due <= target; due = this.clock.nextTimerAt) {
      this.clock.advance(due - this.clock.now());
      await this.settle();
    }
    this.clock.advance(target - this.clock.now());
    await this.settle();
  }

  /** Stage ids of the messages sent so far, in order. */
  sentStageIds(): number[] {
    return this.queue.sent.map((m) => m.stageId);
  }

  private stageInfo(message: TaskMessage): StageInfo {
    if (message.work.kind !== 'stage') throw new Error('not a stage task');
    const descriptor = this.blobs.json(DATA_CONTAINER, message.work.stageBlob) as {
      scope: string;
      plan: { kind: StageInfo['kind']; shuffle?: { shuffleId: number; numReducePartitions: number } };
    };
    return {
      kind: descriptor.plan.kind,
      scope: descriptor.scope,
      ...(descriptor.plan.shuffle
        ? {
            shuffleId: descriptor.plan.shuffle.shuffleId,
            numReducePartitions: descriptor.plan.shuffle.numReducePartitions,
          }
        : {}),
    };
  }

  /** Feed one executor event about `message`'s attempt into the scheduler. */
  private feed(
    message: TaskMessage,
    executorId: string,
    fields: Partial<ExecutorEventInput> & { type: ExecutorEvent['type'] },
  ): void {
    const key = `${message.stageId}/${message.partition}/${message.attempt}`;
    const input = {
      v: PROTOCOL_VERSION,
      appId: message.appId,
      jobId: message.jobId,
      stageId: message.stageId,
      partition: message.partition,
      attempt: message.attempt,
      executorId,
      slot: 0,
      at: this.clock.now(),
      dequeueCount: this.dequeues.get(key) ?? 1,
      ...fields,
    } as ExecutorEventInput;
    this.scheduler.handleEvent(parseExecutorEvent(input));
  }

  /** The executor reports the attempt started (a redelivery counts one more dequeue). */
  start(message: TaskMessage, executorId = 'executor-0'): void {
    const key = `${message.stageId}/${message.partition}/${message.attempt}`;
    this.dequeues.set(key, (this.dequeues.get(key) ?? 0) + 1);
    this.feed(message, executorId, { type: 'task-started' });
  }

  /** The executor reports the attempt is still running. */
  heartbeat(message: TaskMessage, executorId = 'executor-0'): void {
    this.feed(message, executorId, { type: 'task-heartbeat' });
  }

  /**
   * The executor's shutdown interrupted this delivery of the attempt (`dequeueCount`: which
   * delivery, default the latest started); its message goes back to the queue for the caller to
   * release, as the host does.
   */
  interrupt(
    message: TaskMessage,
    executorId = 'executor-0',
    options: { dequeueCount?: number; reason?: string } = {},
  ): void {
    this.feed(message, executorId, {
      type: 'task-interrupted',
      reason: options.reason ?? 'executor is shutting down',
      runMs: 100,
      ...(options.dequeueCount !== undefined ? { dequeueCount: options.dequeueCount } : {}),
    });
  }

  /** The attempt succeeded: a map task reports its output blob and segment sizes, a result task its partial. */
  succeed(message: TaskMessage, options: SuccessOptions = {}, executorId = 'executor-0'): void {
    const stage = this.stageInfo(message);
    const metrics = { durationMs: 5 };
    if (stage.kind === 'shuffle-map') {
      const r = stage.numReducePartitions ?? 0;
      this.feed(message, executorId, {
        type: 'task-succeeded',
        metrics,
        segmentSizes: options.segmentSizes ?? new Array<number>(r).fill(10),
        mapOutputBlob: `apps/${stage.scope}/shuffle/${stage.shuffleId}/map-${message.partition}-a${message.attempt}-s${message.stageId}.bin`,
      });
      return;
    }
    this.feed(message, executorId, {
      type: 'task-succeeded',
      metrics,
      result: { inline: options.result === undefined ? 1 : options.result },
    });
  }

  /** The attempt failed with `error` (the user's, as the executor serializes it). */
  fail(
    message: TaskMessage,
    error: { name: string; message: string; stack?: string; code?: string; shuffleId?: number },
    options: { fatal?: boolean; retryable?: boolean } = {},
    executorId = 'executor-0',
  ): void {
    this.feed(message, executorId, {
      type: 'task-failed',
      error,
      fatal: options.fatal ?? false,
      ...(options.retryable !== undefined ? { retryable: options.retryable } : {}),
    });
  }

  /** Take, start and succeed every waiting message of `stageId`, in order. */
  runWaitingTasks(stageId: number, options: SuccessOptions = {}): TaskMessage[] {
    const taken = this.queue.takeAll({ stageId });
    for (const m of taken) {
      this.start(m);
      this.succeed(m, options);
    }
    return taken;
  }
}
