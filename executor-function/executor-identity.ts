/**
 * Who this executor is and how many slots it has: the executor id that every event carries, the
 * slot count derived from the same host.json the host reads, and the per-invocation slot index.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import {
  type QueueTriggerOptions,
  readHostJson,
  resolveQueueTriggerOptions,
  slotCount,
} from '../contract/queue-trigger-options.js';

/**
 * The executor id: `STRATUS_EXECUTOR_ID` when set (the local fabric names its hosts), else
 * `WEBSITE_INSTANCE_ID` (set by Azure for each Functions host instance), else `<hostname>-<pid>`.
 */
export function resolveExecutorId(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.STRATUS_EXECUTOR_ID?.trim();
  if (explicit) return explicit;
  const instance = env.WEBSITE_INSTANCE_ID?.trim();
  if (instance) return instance;
  return `${hostname()}-${process.pid}`;
}

/**
 * The queue trigger settings in effect for the function app whose host.json is at `hostJsonFile`
 * (next to the app bundle when deployed); documented defaults when the file is absent.
 */
export function executorQueueOptions(
  hostJsonFile: URL = new URL('./host.json', import.meta.url),
  env: NodeJS.ProcessEnv = process.env,
): QueueTriggerOptions {
  const hostJson = existsSync(hostJsonFile) ? readHostJson(hostJsonFile) : {};
  return resolveQueueTriggerOptions(hostJson, env, availableParallelism());
}

/** The executor's slot count: `batchSize + newBatchThreshold` from host.json and its overrides. */
export function executorSlotCount(env: NodeJS.ProcessEnv = process.env): number {
  return slotCount(executorQueueOptions(undefined, env));
}

/**
 * Hands each running invocation the lowest free slot index, so slot indexes stay in
 * 0 … slots-1 whenever the host keeps to its concurrency limit.
 */
export class SlotAllocator {
  private readonly taken = new Set<number>();

  /** Take the lowest free slot index. */
  acquire(): number {
    let slot = 0;
    while (this.taken.has(slot)) slot++;
    this.taken.add(slot);
    return slot;
  }

  /** Give a slot index back. */
  release(slot: number): void {
    this.taken.delete(slot);
  }

  /** Slots currently held. */
  get inUse(): number {
    return this.taken.size;
  }
}
