/**
 * The registry of work kinds: what a task message's `work.kind` runs. Each kind is loaded lazily
 * inside a task thread and gets a TaskContext; it returns a TaskOutcome, which the runner turns
 * into the `task-succeeded` event (or throws, which becomes `task-failed`).
 *
 * To add a kind, write `executor-function/<kind>-task.ts` exporting a `WorkKindRunner` (work-kind-runner.ts) and add
 * one line to `workKinds` below; the task runner, the thread pool and the host are untouched.
 */
import type { TaskWork } from '../contract/protocol.js';
import { NonRetryableTaskError } from './task-errors.js';
import type { WorkKindRunner } from './work-kind-runner.js';

type WorkOfKind<K extends TaskWork['kind']> = Extract<TaskWork, { kind: K }>;

/** For every kind of the protocol, a lazy loader of its runner (so a thread only loads what it runs). */
export type WorkKindRegistry = {
  readonly [K in TaskWork['kind']]: () => Promise<WorkKindRunner<WorkOfKind<K>>>;
};

/** The work kinds this build of the executor can run. */
export const workKinds: WorkKindRegistry = {
  noop: async () => (await import('./noop-task.js')).runNoopTask,
  stage: async () => (await import('./stage-task.js')).runStageTask,
};

/** Load the runner for a task's work; throws NonRetryableTaskError for a kind this build does not know. */
export async function loadWorkKind(work: TaskWork): Promise<WorkKindRunner> {
  const loader = (workKinds as Record<string, (() => Promise<WorkKindRunner>) | undefined>)[work.kind];
  if (!loader) throw new NonRetryableTaskError(`unknown work kind "${work.kind}"`);
  return loader();
}
