/**
 * Vitest global setup: one Azurite for the whole suite, started with the same launcher as
 * `stratus local`. Test files read its connection string with `inject('connectionString')`;
 * teardown stops it (and the watchdog guarantees it dies even if vitest is killed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { type AzuriteHandle, startAzurite } from '../driver/fabric/azurite.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** Connection string of the suite's Azurite (well-known development account). */
    connectionString: string;
  }
}

let azurite: AzuriteHandle | undefined;
let eventLogDir: string | undefined;
let stratusHome: string | undefined;

/**
 * Start the suite's Azurite and provide its connection string to every test file. Local runs
 * keep their event logs in STRATUS_EVENT_LOG_DIR: a temp folder for the suite (inherited by the
 * test workers and every process they start), so no test writes `.stratus/` in the checkout.
 */
export async function setup(project: TestProject): Promise<void> {
  eventLogDir = mkdtempSync(path.join(tmpdir(), 'stratus-suite-event-logs-'));
  process.env.STRATUS_EVENT_LOG_DIR = eventLogDir;
  // Per-user state (the records of running `stratus local`s, bundles) in a folder of the suite's:
  // a test's `stratus run` never joins a `stratus local` of the developer's, nor theirs one of ours.
  stratusHome = mkdtempSync(path.join(tmpdir(), 'stratus-suite-home-'));
  process.env.STRATUS_HOME = stratusHome;
  process.env.STRATUS_BUNDLE_CACHE_DIR = path.join(stratusHome, 'bundle-cache');
  azurite = await startAzurite();
  project.provide('connectionString', azurite.connectionString);
}

/** Stop the suite's Azurite and remove its data folder and the suite's event-log and home folders. */
export async function teardown(): Promise<void> {
  await azurite?.stop();
  azurite = undefined;
  if (eventLogDir) rmSync(eventLogDir, { recursive: true, force: true });
  if (stratusHome) rmSync(stratusHome, { recursive: true, force: true });
}
