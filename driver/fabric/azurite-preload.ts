/**
 * Loaded into the Azurite process (`node --import`) before Azurite's own code. Azurite requires
 * its telemetry library (`applicationinsights`) at load time even when `--disableTelemetry`
 * means it never calls it, and that library hooks every later `require` of the process
 * (require-in-the-middle): about a third of Azurite's start on this machine. stratus always
 * disables telemetry, so the library is replaced by an empty object; every use of it in Azurite
 * is behind the telemetry switch (common/Telemetry.js).
 */
import Module from 'node:module';

/** What `require('applicationinsights')` returns inside the Azurite process. */
export const TELEMETRY_STUB: Readonly<Record<string, never>> = Object.freeze({});

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const cjs = Module as unknown as { _load: Load };
const load = cjs._load;
cjs._load = function loadWithoutTelemetry(this: unknown, request, parent, isMain) {
  if (request === 'applicationinsights') return TELEMETRY_STUB;
  return load.call(this, request, parent, isMain);
};
