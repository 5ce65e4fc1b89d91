/**
 * Entry point of the executor function app (package.json `main` of the deployed bundle).
 *
 * It registers the queue-triggered `executor` function before doing anything else: an entry
 * point that throws before `app.storageQueue(...)` leaves the Functions host with no functions,
 * consuming nothing and saying little. Everything heavy (protocol schemas, storage SDK, the task
 * thread pool) is loaded after registration: at appStart, which starts the task threads ahead of
 * the first invocation.
 */
import { app, type InvocationContext } from '@azure/functions';
// Small and dependency-free: the registration below still comes first in effect.
import { coerceError } from '../contract/errors.js';
import { redactError } from '../contract/redaction.js';

/** The app setting holding the task queue's name (`%STRATUS_TASK_QUEUE%` in the binding). */
export const TASK_QUEUE_SETTING = 'STRATUS_TASK_QUEUE';

/** The registered function's name. */
export const EXECUTOR_FUNCTION_NAME = 'executor';

/** The task runner, once the first invocation loaded it (the shutdown hook needs it only then). */
let taskRunner: Promise<typeof import('./task-runner.js')> | undefined;

/** The queue trigger handler: one invocation = one task attempt. Throws only Error objects. */
export async function executorHandler(queueItem: unknown, context: InvocationContext): Promise<void> {
  try {
    taskRunner ??= import('./task-runner.js');
    const { runTaskInvocation } = await taskRunner;
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    await runTaskInvocation(
      queueItem,
      { dequeueCount: Number.isFinite(dequeueCount) ? dequeueCount : 1 },
      context,
    );
  } catch (error) {
    // The host logs what the handler throws (a task's error quotes user messages): redact it.
    // Always an Error: the worker reports a thrown undefined/null as success.
    throw redactError(coerceError(error));
  }
}

app.storageQueue(EXECUTOR_FUNCTION_NAME, {
  queueName: `%${TASK_QUEUE_SETTING}%`,
  connection: 'AzureWebJobsStorage',
  handler: executorHandler,
});

// Registered after the function, so a failure here cannot leave the host without it.
app.hook.appStart(() => {
  // Task threads load while the host starts listening, not when the first task arrives. Not
  // awaited: the host would wait for it before fetching messages.
  taskRunner ??= import('./task-runner.js');
  taskRunner.then(({ prewarmTaskThreads }) => prewarmTaskThreads()).catch(() => undefined);
});

app.hook.appTerminate(async () => {
  // No invocation ever ran: no task thread, nothing to stop.
  if (!taskRunner) return;
  const { closeTaskRunner } = await taskRunner;
  await closeTaskRunner();
});
