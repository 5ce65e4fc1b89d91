/**
 * Driver scripts: a module whose default export is `defineDriverScript(async (driver, params) => …)`.
 * `stratus run` connects a Driver, calls it with the `--param` values and prints what it
 * returns — the place for control flow between jobs, such as iterating until converged.
 */
import type { Driver } from './driver.js';

/** A driver script's default export. */
export interface DriverScript<P = Record<string, unknown>, R = unknown> {
  /** Marks a driver script's default export (`stratus run` checks it). */
  readonly kind: 'stratus-driver-script';
  /** The script: runs jobs on the connected `driver`; what it returns `stratus run` prints. */
  main(driver: Driver, params: P): Promise<R>;
}

/** Declare a driver script: `export default defineDriverScript(async (driver, params) => …)`. */
export function defineDriverScript<P = Record<string, unknown>, R = unknown>(
  main: (driver: Driver, params: P) => Promise<R>,
): DriverScript<P, R> {
  if (typeof main !== 'function') throw new TypeError('defineDriverScript expects an async function');
  return { kind: 'stratus-driver-script', main };
}

/** True when `value` is a driver script's default export. */
export function isDriverScript(value: unknown): value is DriverScript<unknown, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'stratus-driver-script'
  );
}
