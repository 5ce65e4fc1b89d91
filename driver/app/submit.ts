/**
 * What `stratus run` does with the module it is given, as spark-submit does with an
 * application: load it — a job module (default export `defineJob(...)`) or a driver script
 * (default export `defineDriverScript(...)`) — run it on a connected Driver, and close the
 * Driver with the outcome, so the event log's app-end says how the application ended.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError, type StratusError } from '../../contract/errors.js';
import { resolveModulePath } from './bundler.js';
import type { Driver, RunOptions } from './driver.js';
import { type DriverScript, isDriverScript } from './driver-script.js';
import { registerTypeScriptLoader } from './ts-loader.js';

/** A module `stratus run` can run, loaded: a job module's file, or a driver script's export. */
export type SubmittedModule =
  | { kind: 'job'; file: string }
  | { kind: 'driver-script'; file: string; script: DriverScript<unknown, unknown> };

/**
 * Resolve and import `modulePath` in this process (TypeScript through the loader hooks) and tell
 * what it default-exports; throws ConfigError when it is neither a job module nor a driver script.
 */
export async function loadSubmittedModule(modulePath: string): Promise<SubmittedModule> {
  const file = resolveModulePath(modulePath);
  registerTypeScriptLoader();
  const entry = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  if (typeof entry === 'object' && entry !== null && (entry as { kind?: unknown }).kind === 'stratus-job') {
    return { kind: 'job', file };
  }
  if (isDriverScript(entry)) return { kind: 'driver-script', file, script: entry };
  throw new ConfigError(
    `${modulePath} must default-export defineJob((ctx, params) => …) or defineDriverScript(async (driver, params) => …)`,
  );
}

/** How a submitted module's run ended, once its driver is closed. */
export type SubmittedRunOutcome = { ok: true; results: unknown } | { ok: false; error: unknown };

/**
 * Run `module` on `driver` with `params`, then close the driver with the outcome: `succeeded`,
 * `cancelled` when the run failed with JOB_CANCELLED, else `failed`. The results are a job
 * module's named action results or what the driver script returned. Throws only when closing fails.
 */
export async function runSubmittedModule(
  driver: Driver,
  module: SubmittedModule,
  params: Record<string, unknown>,
  options: RunOptions = {},
): Promise<SubmittedRunOutcome> {
  let results: unknown;
  try {
    if (module.kind === 'job') {
      // Accumulators (bad-record counts too) are in the run summary and the event log's job-end.
      results = (await driver.runWithReport(module.file, params, options)).results;
    } else {
      results = await module.script.main(driver, params);
    }
  } catch (error) {
    await driver.close((error as StratusError).code === 'JOB_CANCELLED' ? 'cancelled' : 'failed', error);
    return { ok: false, error };
  }
  await driver.close('succeeded');
  return { ok: true, results };
}
