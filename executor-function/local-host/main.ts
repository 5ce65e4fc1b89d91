#!/usr/bin/env node
/**
 * The local executor host: one process = one executor, standing in for a Functions host instance
 * (which cannot be installed here). It loads a function app directory unchanged, reads its
 * host.json (plus `AzureFunctionsJobHost__extensions__queues__*` overrides), listens on the
 * trigger queue like the storage extension, and drives each invocation through the app's own
 * programming model. See contract/local-host-process.ts for the command line, environment and stdout lines.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../contract/errors.js';
import { defaultFunctionAppDir, HOST_ENV, type HostLine } from '../../contract/local-host-process.js';
import { DEFAULT_TASK_QUEUE } from '../../contract/names.js';
import { readHostJson, resolveQueueTriggerOptions, slotCount } from '../../contract/queue-trigger-options.js';
import { redactDeep, redactSecrets } from '../../contract/redaction.js';
import { resolveExecutorId } from '../executor-identity.js';
import { WORKER_TERMINATE_GRACE_MS } from '../executor-shutdown.js';
import { connectFromSetting } from '../storage-binding.js';
import { HostStartError, loadFunctionApp } from './app-loader.js';
import { FunctionsCore } from './functions-core.js';
import { type InvocationLogEntry, invokeQueueFunction } from './invoker.js';
import { QueueListener } from './queue-listener.js';

const env = process.env;
const verbose = env[HOST_ENV.verbose] === '1';

function printLine(line: HostLine): void {
  process.stdout.write(`${JSON.stringify(redactDeep(line))}\n`);
}

function warn(text: string): void {
  process.stderr.write(`stratus local host: ${redactSecrets(text)}\n`);
}

function positiveNumber(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new HostStartError(`${name}=${raw} must be a positive number`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { app: { type: 'string' } }, strict: true });
  const appDir = path.resolve(values.app ?? defaultFunctionAppDir());
  // The local host plays Core Tools: a development environment with the default task queue name.
  env.AZURE_FUNCTIONS_ENVIRONMENT ??= 'Development';
  env[HOST_ENV.taskQueue] ??= DEFAULT_TASK_QUEUE;
  env[HOST_ENV.executorId] ??= resolveExecutorId(env);

  const options = resolveQueueTriggerOptions(
    readHostJson(path.join(appDir, 'host.json')),
    env,
    availableParallelism(),
  );
  const timings = {
    leaseSeconds: Math.ceil(positiveNumber(HOST_ENV.leaseSeconds, 600)),
    minPollMs: positiveNumber(HOST_ENV.minPollMs, 100),
  };

  const core = new FunctionsCore((level, category, message) => {
    if (verbose || ['warning', 'error', 'critical'].includes(level))
      warn(`[${category} ${level}] ${message}`);
  });
  const fn = await loadFunctionApp(appDir, core, env);
  const connection = connectFromSetting(env, fn.connection);
  await core.runHooks('appStart', {
    hookData: {},
    appHookData: core.appHookData,
    functionAppDirectory: appDir,
  });

  const line = verbose ? printLine : undefined;
  // As Core Tools prints an invocation's log: the app's lines from information up (all when
  // verbose), the library's own only when they warn. Verbose hosts also print each as a JSON line.
  const shown = (entry: InvocationLogEntry) =>
    verbose ||
    ['warning', 'error', 'critical'].includes(entry.level) ||
    (entry.category === 'user' && entry.level === 'information');
  const invocationLog = (entry: InvocationLogEntry) => {
    line?.({ event: 'log', at: Date.now(), ...entry });
    if (!shown(entry)) return;
    // The app's own lines as it wrote them (they name the executor and task); the library's
    // lines under the function's name.
    if (entry.category === 'user') process.stderr.write(`${redactSecrets(entry.message)}\n`);
    else warn(`[${fn.metadata.name}] ${entry.message}`);
  };
  let listener: QueueListener | undefined;
  listener = new QueueListener({
    connection,
    queueName: fn.queueName,
    options,
    timings,
    warn,
    ...(line ? { line } : {}),
    invoke: async (delivery) => {
      const inFlight = () => listener?.inFlightCount ?? 0;
      line?.({
        event: 'invocation-start',
        at: Date.now(),
        messageId: delivery.messageId,
        dequeueCount: delivery.dequeueCount,
        inFlight: inFlight(),
      });
      const outcome = await invokeQueueFunction(core, fn, delivery, invocationLog);
      if (!outcome.ok)
        warn(`invocation for message ${delivery.messageId} failed: ${describe(outcome.error)}`);
      line?.({
        event: 'invocation-end',
        at: Date.now(),
        messageId: delivery.messageId,
        ok: outcome.ok,
        inFlight: inFlight(),
      });
      return outcome;
    },
  });

  // Shutdown, as the host disposes of its worker channel: stop fetching, then run the
  // appTerminate hooks at once (WorkerTerminate), while invocations are still in flight — the
  // executor app tells its tasks to stop and waits, bounded by its own grace, for their
  // invocations to end; the listener then settles what they returned. The host gives the worker
  // 5 s (WORKER_TERMINATE_GRACE_MS) to exit, then kills it and fails the invocations that got no
  // response: so does this host, so a grace that does not fit fails here as it would on Azure.
  let terminating: Promise<void> | undefined;
  let workerKilled = false;
  const shutdown = (signal: string) => {
    if (terminating) return;
    warn(
      `${signal}: no more fetching; telling ${listener?.inFlightCount ?? 0} in-flight invocation(s) to stop`,
    );
    listener?.stop();
    terminating = core
      .runHooks('appTerminate', { hookData: {}, appHookData: core.appHookData })
      .catch((error: unknown) => warn(`an appTerminate hook failed: ${describe(error)}`));
    setTimeout(() => {
      workerKilled = true;
      const failed =
        listener?.failInFlight(
          new Error(`the worker was killed ${WORKER_TERMINATE_GRACE_MS} ms after ${signal}`),
        ) ?? 0;
      warn(
        `the worker did not exit within the host's ${WORKER_TERMINATE_GRACE_MS} ms terminate grace after ${signal}: killing it, as the Functions host does; ${failed} in-flight invocation(s) failed, their messages released`,
      );
      // The listener settles those messages, then `main` exits; this only bounds a stuck settle.
      setTimeout(() => process.exit(1), 10_000).unref();
    }, WORKER_TERMINATE_GRACE_MS).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  const running = listener.run();
  printLine({
    event: 'ready',
    executorId: env[HOST_ENV.executorId]!,
    slots: slotCount(options),
    queue: fn.queueName,
    pid: process.pid,
  });
  await running;
  // A killed worker runs no more of the app: its hooks may never end, and the host says it failed.
  if (workerKilled) process.exit(1);
  await (terminating ?? core.runHooks('appTerminate', { hookData: {}, appHookData: core.appHookData }));
  process.exit(0);
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}

main().catch((error: unknown) => {
  const expected = error instanceof HostStartError || error instanceof ConfigError;
  warn(`cannot start: ${expected ? (error as Error).message : describe(error)}`);
  process.exit(expected ? 3 : 1);
});
