/**
 * Loads a function app directory unchanged, the way the Functions Node worker does: read its
 * package.json, load `main` (require for CommonJS, import for ESM) with `@azure/functions-core`
 * injected, then read back what the app registered. It refuses, loudly, to go on when nothing
 * was registered: the real host would sit there with no functions, consuming nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CoreBindingInfo, FunctionsCore, RegisteredFunction } from './functions-core.js';

/** The app cannot be hosted; the message says why and what to do. Exit non-zero. */
export class HostStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HostStartError';
  }
}

/** The queue-triggered function the host will drive, with its settings resolved. */
export interface QueueTriggeredFunction extends RegisteredFunction {
  /** The function's id (its name unless the app set one). */
  functionId: string;
  /** Name of the trigger binding (the key under which the trigger input is passed). */
  triggerBindingName: string;
  /** The trigger queue's name, `%SETTING%` references resolved from the environment. */
  queueName: string;
  /** The app-setting name holding the storage connection. */
  connection: string;
}

/** Resolve `%SETTING%` references the way the host's name resolver does; throws on a missing setting. */
export function resolveAppSettings(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/%([^%]+)%/g, (_whole, name: string) => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new HostStartError(`binding refers to app setting %${name}%, which is not set`);
    }
    return value;
  });
}

function readPackageJson(appDir: string): { main?: string; type?: string } {
  const file = path.join(appDir, 'package.json');
  if (!existsSync(file)) throw new HostStartError(`no package.json in function app directory ${appDir}`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { main?: string; type?: string };
  } catch (error) {
    throw new HostStartError(`cannot parse ${file}: ${(error as Error).message}`);
  }
}

/** Load the app's entry point with the core module installed; returns the entry file's path. */
async function loadEntryPoint(appDir: string): Promise<string> {
  const pkg = readPackageJson(appDir);
  if (!pkg.main) throw new HostStartError(`${appDir}/package.json has no "main": the worker loads nothing`);
  const entry = path.resolve(appDir, pkg.main);
  if (!existsSync(entry)) throw new HostStartError(`entry point "${pkg.main}" does not exist in ${appDir}`);
  const esm = entry.endsWith('.mjs') || (pkg.type === 'module' && !entry.endsWith('.cjs'));
  try {
    if (esm) await import(pathToFileURL(entry).href);
    else createRequire(path.join(appDir, 'package.json'))(entry);
  } catch (error) {
    throw new HostStartError(
      `the worker was unable to load entry point "${pkg.main}": ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return entry;
}

function isQueueTrigger(binding: CoreBindingInfo): boolean {
  return typeof binding.type === 'string' && binding.type.toLowerCase() === 'queuetrigger';
}

/**
 * Load the function app in `appDir` into `core` and return its one queue-triggered function.
 * Throws HostStartError when the app fails to load, registers nothing, or has no single queue trigger.
 */
export async function loadFunctionApp(
  appDir: string,
  core: FunctionsCore,
  env: NodeJS.ProcessEnv,
): Promise<QueueTriggeredFunction> {
  core.install();
  await loadEntryPoint(appDir);
  // After startup the worker refuses further registrations.
  core.locked = true;
  if (core.functions.size === 0) {
    throw new HostStartError(
      `no function was registered by the app in ${appDir}: its entry point must call app.storageQueue(...) ` +
        'before anything that can throw (the Functions host would run with 0 functions and consume nothing)',
    );
  }
  if (!core.programmingModel) {
    throw new HostStartError(
      'functions were registered but no programming model was set (is @azure/functions v4 used?)',
    );
  }
  const queueFunctions = [...core.functions.entries()].filter(([, f]) =>
    Object.values(f.metadata.bindings).some(isQueueTrigger),
  );
  if (queueFunctions.length !== 1) {
    const names = [...core.functions.keys()].join(', ');
    throw new HostStartError(
      `the local host runs exactly one queue-triggered function; the app registered ${queueFunctions.length} (${names})`,
    );
  }
  const [functionId, registered] = queueFunctions[0]!;
  const [triggerBindingName, trigger] = Object.entries(registered.metadata.bindings).find(([, b]) =>
    isQueueTrigger(b),
  )!;
  if (typeof trigger.queueName !== 'string' || trigger.queueName === '') {
    throw new HostStartError(`function "${registered.metadata.name}" has a queue trigger without queueName`);
  }
  const connection =
    typeof trigger.connection === 'string' && trigger.connection ? trigger.connection : 'AzureWebJobsStorage';
  await core.programmingModel.getCapabilities?.({});
  return {
    ...registered,
    functionId,
    triggerBindingName,
    queueName: resolveAppSettings(trigger.queueName, env),
    connection: resolveAppSettings(connection, env),
  };
}
