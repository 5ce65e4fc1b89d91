/**
 * End-to-end helpers: a real Driver on a local fabric — the suite's Azurite, executor host
 * processes on a task queue of their own — and a listener that records run events.
 */
import { Driver, type DriverOptions } from '../../driver/app/driver.js';
import { type LocalFabric, startLocalFabric } from '../../driver/fabric/local-fabric.js';
import { RecordingListener } from '../../driver/testing/recording-listener.js';
import { FAST_HOST_ENV, suiteConnectionString, uniqueTaskQueue } from './fabric.js';

/**
 * Connect a driver to `fabric`'s executors: its storage, its task queue and, unless `options`
 * say otherwise, its total slots as default parallelism. The caller closes it.
 */
export function connectDriver(fabric: LocalFabric, options: DriverOptions = {}): Promise<Driver> {
  return Driver.connect({
    connectionString: fabric.connectionString,
    taskQueue: fabric.queue,
    totalSlots: fabric.totalSlots,
    ...options,
  });
}

/** A driver joined to its own executors; `close` stops both. */
export interface E2EFabric {
  driver: Driver;
  fabric: LocalFabric;
  events: RecordingListener;
  close(): Promise<void>;
}

/** Start `executors` × `slots` executors on a fresh queue of the suite's Azurite and connect a driver. */
export async function startE2E(
  options: {
    executors?: number;
    slots?: number;
    label?: string;
    driver?: DriverOptions;
    hostEnv?: Record<string, string>;
    /** Storage for driver and executors; default the suite's Azurite (e.g. a RequestCounter in front of it). */
    connectionString?: string;
  } = {},
): Promise<E2EFabric> {
  const connectionString = options.connectionString ?? suiteConnectionString();
  const queue = uniqueTaskQueue(options.label ?? 'e2e');
  const fabric = await startLocalFabric({
    executors: options.executors ?? 2,
    slots: options.slots ?? 2,
    queue,
    connectionString,
    hostEnv: { ...FAST_HOST_ENV, STRATUS_HEARTBEAT_MS: '1000', ...options.hostEnv },
    log: () => undefined,
  });
  const events = new RecordingListener();
  try {
    const driver = await connectDriver(fabric, { listeners: [events], ...options.driver });
    return {
      driver,
      fabric,
      events,
      async close() {
        await driver.close();
        await fabric.stop();
      },
    };
  } catch (error) {
    await fabric.stop();
    throw error;
  }
}

export { RecordingListener };
