/**
 * Fabric test helpers: the suite's Azurite (from the global setup), task queue names unique to
 * one test, and host timings short enough for tests.
 */
import { inject } from 'vitest';

/** Connection string of the suite's Azurite, provided by test/global-setup.ts. */
export function suiteConnectionString(): string {
  return inject('connectionString');
}

let counter = 0;
/** A task queue name unique to this test run (valid queue name, ≤ 40 chars). */
export function uniqueTaskQueue(label: string): string {
  counter += 1;
  return `f-${label}-${process.pid}-${counter}-${Date.now().toString(36)}`.slice(0, 40).replace(/-+$/, '');
}

/** Executor host settings for tests: poll at most every 500 ms when idle. */
export const FAST_HOST_ENV: Record<string, string> = {
  AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.500',
};
