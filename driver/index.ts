/**
 * `stratus/driver`: what a driver script imports to run job modules — the Driver and its
 * options, driver scripts, run events for listeners, and the local fabric for tests and
 * local runs. The job-module API (defineJob, Dataset, the errors) is the `stratus` entry.
 *
 * This list is the published contract, recorded in api/stratus-driver.api.md and checked by
 * `npm run api:check`. Everything else in driver/ (scheduler, storage access, CLI commands,
 * the event log, the UI) is internal and imported from its own file.
 *
 * @packageDocumentation
 */

export {
  Driver,
  type DriverMode,
  type DriverOptions,
  type RunOptions,
  type RunReport,
  type ShuffleCompression,
} from './app/driver.js';
export { type DriverScript, defineDriverScript } from './app/driver-script.js';
export type { ExecutorHandle } from './fabric/executor-process.js';
export {
  type LocalFabric,
  type LocalFabricEvents,
  type LocalFabricOptions,
  startLocalFabric,
} from './fabric/local-fabric.js';
export type { ProcessExit } from './fabric/watchdog.js';
export { EVENT_LOG_VERSION, type RunEvent, RunEventSchema, type RunListener } from './observe/run-events.js';
export type { SpeculationOptions } from './scheduler/task-set.js';
