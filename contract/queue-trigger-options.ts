/**
 * The queue trigger's settings as the Functions host computes them: `extensions.queues` in
 * host.json, overridden by app settings named `AzureFunctionsJobHost__extensions__queues__<key>`
 * (the documented way to override any host.json value from the environment), with the storage
 * extension's documented defaults for anything left unset.
 *
 * Shared by the executor app (to size its task-thread pool to the slot count) and by the
 * local host (to reproduce the listener). Pure: no I/O except `readHostJson`.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

/** The queue listener settings that shape an executor: how many slots, how retries work. */
export interface QueueTriggerOptions {
  /** Messages fetched per receive call (1–32; default 16). */
  readonly batchSize: number;
  /** Fetch again once in-flight invocations drop to this many (default batchSize/2 × processors). */
  readonly newBatchThreshold: number;
  /** Deliveries before a failing message moves to `<queue>-poison` (default 5). */
  readonly maxDequeueCount: number;
  /** How long a failed message stays invisible before its retry, in ms (default 0). */
  readonly visibilityTimeoutMs: number;
  /** Upper bound of the empty-poll backoff, in ms (default 1 min; 2 s in development). */
  readonly maxPollingIntervalMs: number;
  /** Wire encoding of message bodies (default base64). */
  readonly messageEncoding: 'base64' | 'none';
}

/** App-setting prefix through which the Functions host lets the environment override host.json. */
export const HOST_OVERRIDE_PREFIX = 'AzureFunctionsJobHost__extensions__queues__';

/** The documented upper bound of `batchSize` (Storage returns at most 32 messages per request). */
export const MAX_BATCH_SIZE = 32;

const KEYS = [
  'batchSize',
  'newBatchThreshold',
  'maxDequeueCount',
  'visibilityTimeout',
  'maxPollingInterval',
  'messageEncoding',
] as const;
type Key = (typeof KEYS)[number];

/** The number of slots of one executor: `batchSize + newBatchThreshold` invocations at once. */
export function slotCount(options: QueueTriggerOptions): number {
  return options.batchSize + options.newBatchThreshold;
}

/** Read and parse a function app's host.json; throws ConfigError naming the file when unreadable. */
export function readHostJson(file: string | URL): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read host.json at ${String(file)}: ${(error as Error).message}`);
  }
}

/**
 * Parse a .NET TimeSpan as host.json writes it (`[d.]hh:mm:ss[.fff]`) into milliseconds.
 * Throws ConfigError for anything else.
 */
export function parseTimeSpan(text: string, setting: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(text.trim());
  if (!match) throw new ConfigError(`${setting}: "${text}" is not a TimeSpan like 00:00:02`);
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return Math.round(
    ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000,
  );
}

/** Case-insensitive lookup, as .NET configuration keys are case-insensitive. */
function lookup(source: Record<string, unknown>, key: string): unknown {
  const found = Object.keys(source).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : source[found];
}

function queuesSection(hostJson: unknown): Record<string, unknown> {
  if (typeof hostJson !== 'object' || hostJson === null) return {};
  const extensions = lookup(hostJson as Record<string, unknown>, 'extensions');
  if (typeof extensions !== 'object' || extensions === null) return {};
  const queues = lookup(extensions as Record<string, unknown>, 'queues');
  return typeof queues === 'object' && queues !== null ? (queues as Record<string, unknown>) : {};
}

function integer(value: unknown, setting: string, min: number, max: number): number {
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${setting}: ${JSON.stringify(value)} must be an integer in ${min}…${max}`);
  }
  return n;
}

/** True when the host runs in the Development environment (Core Tools sets this locally). */
export function isDevelopment(env: NodeJS.ProcessEnv): boolean {
  return (env.AZURE_FUNCTIONS_ENVIRONMENT ?? '').toLowerCase() === 'development';
}

/**
 * Compute the effective queue trigger settings from host.json, the environment overrides and the
 * number of processors. Throws ConfigError naming the offending setting.
 */
export function resolveQueueTriggerOptions(
  hostJson: unknown,
  env: NodeJS.ProcessEnv,
  processors: number,
): QueueTriggerOptions {
  const fromFile = queuesSection(hostJson);
  const raw = {} as Record<Key, unknown>;
  for (const key of KEYS) {
    const override = lookup(env, HOST_OVERRIDE_PREFIX + key);
    raw[key] = override !== undefined && override !== '' ? override : lookup(fromFile, key);
  }
  // Documented defaults (host.json reference, "queues"): batchSize 16, max 32.
  const batchSize = raw.batchSize === undefined ? 16 : integer(raw.batchSize, 'batchSize', 1, MAX_BATCH_SIZE);
  // newBatchThreshold defaults to batchSize/2 × the instance's vCPU count.
  const newBatchThreshold =
    raw.newBatchThreshold === undefined || Number(raw.newBatchThreshold) === -1
      ? Math.floor(batchSize / 2) * Math.max(1, processors)
      : integer(raw.newBatchThreshold, 'newBatchThreshold', 0, 10_000);
  const maxDequeueCount =
    raw.maxDequeueCount === undefined ? 5 : integer(raw.maxDequeueCount, 'maxDequeueCount', 1, 10_000);
  const visibilityTimeoutMs =
    raw.visibilityTimeout === undefined
      ? 0
      : parseTimeSpan(String(raw.visibilityTimeout), 'visibilityTimeout');
  // maxPollingInterval defaults to 1 minute, and to 2 seconds when running in development.
  const maxPollingIntervalMs =
    raw.maxPollingInterval === undefined
      ? isDevelopment(env)
        ? 2_000
        : 60_000
      : parseTimeSpan(String(raw.maxPollingInterval), 'maxPollingInterval');
  const encoding = String(raw.messageEncoding ?? 'base64').toLowerCase();
  if (encoding !== 'base64' && encoding !== 'none') {
    throw new ConfigError(`messageEncoding: "${encoding}" must be "base64" or "none"`);
  }
  return {
    batchSize,
    newBatchThreshold,
    maxDequeueCount,
    visibilityTimeoutMs,
    maxPollingIntervalMs: Math.max(100, maxPollingIntervalMs),
    messageEncoding: encoding,
  };
}
