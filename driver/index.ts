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
} from './driver.js';
export { type DriverScript, defineDriverScript, isDriverScript } from './driver-script.js';
export { type LocalFabric, type LocalFabricOptions, startLocalFabric } from './local-fabric.js';
export {
  EVENT_LOG_VERSION,
  type RunEvent,
  RunEventBus,
  RunEventSchema,
  type RunListener,
} from './run-events.js';
