/**
 * `stratus/driver`: what a driver script imports to run job modules — the Driver, driver
 * scripts, run events for listeners, and the local fabric for tests.
 */

export {
  Driver,
  type DriverOptions,
  type RunOptions,
  type RunReport,
  type ShuffleCompression,
} from './app/driver.js';
export { type DriverScript, defineDriverScript, isDriverScript } from './app/driver-script.js';
export { type LocalFabric, type LocalFabricOptions, startLocalFabric } from './fabric/local-fabric.js';
export {
  EVENT_LOG_VERSION,
  type RunEvent,
  RunEventBus,
  RunEventSchema,
  type RunListener,
} from './observe/run-events.js';
