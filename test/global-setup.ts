/**
 * Vitest global setup: one Azurite for the whole suite, started with the same launcher as
 * `stratus local`. Test files read its connection string with `inject('connectionString')`;
 * teardown stops it (and the watchdog guarantees it dies even if vitest is killed).
 */
import type { TestProject } from 'vitest/node';
import { type AzuriteHandle, startAzurite } from '../driver/azurite.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** Connection string of the suite's Azurite (well-known development account). */
    connectionString: string;
  }
}

let azurite: AzuriteHandle | undefined;

/** Start the suite's Azurite and provide its connection string to every test file. */
export async function setup(project: TestProject): Promise<void> {
  azurite = await startAzurite();
  project.provide('connectionString', azurite.connectionString);
}

/** Stop the suite's Azurite and remove its data folder. */
export async function teardown(): Promise<void> {
  await azurite?.stop();
  azurite = undefined;
}
