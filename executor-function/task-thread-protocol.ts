/**
 * Messages between the main thread (TaskThreadPool) and a task thread. Everything here must
 * survive structured clone.
 */
import type { SerializedTaskError } from './task-errors.js';
import type { BlockChanges, BlockSnapshot } from './thread-blocks.js';
import type { TaskOutcome } from './work-kind-runner.js';

/** Main thread → task thread: run one task, or abort the one with this id. */
export type TaskThreadRequest =
  | {
      type: 'run';
      /** Pool-assigned id of this run, echoed in the reply. */
      id: number;
      /** The task message as received (validated again in the thread). */
      message: unknown;
      executorId: string;
      slot: number;
      dequeueCount: number;
      /** Random, drawn once per execution by the runner; goes into every blob name the execution writes. */
      nonce: string;
      /**
       * A directory private to this execution, made and removed by the runner on the main
       * thread — so it is removed even when the thread is terminated or crashes.
       */
      tempDir: string;
      /** The executor's persisted blocks of the task's application (block-manager.ts). */
      blocks?: BlockSnapshot;
      /**
       * One Int32 over a SharedArrayBuffer, set to 1 by the pool when the run must stop: the
       * thread reads it between record batches, where a CPU-bound task never returns to its
       * event loop to receive the `abort` message.
       */
      interrupt: Int32Array;
    }
  | { type: 'abort'; id: number };

/** Task thread → main thread: a log line of a run (TaskContext.log), or its outcome. */
export type TaskThreadReply =
  | { type: 'log'; id: number; line: string }
  | { type: 'done'; id: number; outcome: TaskOutcome; blocks?: BlockChanges }
  | { type: 'failed'; id: number; error: SerializedTaskError };

/** What the pool needs to start a run (the pool assigns the id and the interrupt flag). */
export type TaskRunRequest = Omit<Extract<TaskThreadRequest, { type: 'run' }>, 'type' | 'id' | 'interrupt'>;
