/**
 * Where a Driver's executors are: an embedded local fabric it starts (the default), a running
 * `stratus local` or any account by connection string, or a deployment by account name with
 * the user's Entra identity — decided from DriverOptions, then the environment.
 */
import type { TokenCredential } from '@azure/core-auth';
import { ConfigError } from '../engine/errors.js';
import { CODE_CONTAINER, DEFAULT_TASK_QUEUE, fabricInfoBlobName } from '../engine/names.js';
import { BlobStore } from '../storage/blob-store.js';
import { connectStorage, type StorageConnection } from '../storage/connection.js';
import { resolveAzureConnection } from './azure-connection.js';
import { type LocalFabric, startLocalFabric } from './local-fabric.js';

/** The subset of DriverOptions that decides where executors are. */
export interface FabricChoice {
  local?: boolean | { executors?: number; slots?: number; hostEnv?: Record<string, string> };
  connectionString?: string;
  account?: string;
  credential?: TokenCredential;
  taskQueue?: string;
  totalSlots?: number;
  log?: (line: string) => void;
}

/** A connected fabric: its storage, task queue, slots, and the local fabric when we started one. */
export interface FabricConnection {
  fabric: LocalFabric | undefined;
  storage: StorageConnection;
  queueName: string;
  totalSlots: number;
  mode: 'local' | 'connect' | 'azure';
  /** Memory of each executor instance (MB), when the deployment's environment gives it. */
  instanceMemoryMb?: number;
}

/** A positive integer from environment variable `name`; undefined when unset, ConfigError when malformed. */
export function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The total slots a running `stratus local` published for its queue, if any. */
async function publishedSlots(blobs: BlobStore, queue: string): Promise<number | undefined> {
  try {
    const info = JSON.parse(
      (await blobs.get(CODE_CONTAINER, fabricInfoBlobName(queue))).toString('utf8'),
    ) as {
      totalSlots?: unknown;
    };
    return typeof info.totalSlots === 'number' && info.totalSlots > 0 ? info.totalSlots : undefined;
  } catch {
    return undefined; // no fabric description: fall back to the default
  }
}

/** Start or join the fabric `choice` names. */
export async function connectFabric(choice: FabricChoice): Promise<FabricConnection> {
  const wantsLocal = choice.local === true || typeof choice.local === 'object';
  const remote =
    !wantsLocal &&
    (choice.connectionString ??
      choice.account ??
      process.env.STRATUS_CONNECTION ??
      process.env.STRATUS_ACCOUNT) !== undefined;
  if (!remote) {
    const local = typeof choice.local === 'object' ? choice.local : {};
    const queueName = choice.taskQueue ?? process.env.STRATUS_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
    const fabric = await startLocalFabric({
      executors: local.executors ?? envInt('STRATUS_EXECUTORS') ?? 2,
      slots: local.slots ?? envInt('STRATUS_SLOTS') ?? 2,
      queue: queueName,
      log: choice.log ?? ((line: string) => process.stderr.write(`${line}\n`)),
      ...(local.hostEnv ? { hostEnv: local.hostEnv } : {}),
    });
    return {
      fabric,
      storage: connectStorage({ connectionString: fabric.connectionString }),
      queueName,
      totalSlots: fabric.totalSlots,
      mode: 'local',
    };
  }
  const resolved = resolveAzureConnection({
    account: choice.account,
    connectionString: choice.connectionString,
    queue: choice.taskQueue,
    totalSlots: choice.totalSlots,
    credential: choice.credential,
  });
  const totalSlots =
    resolved.totalSlots ?? (await publishedSlots(new BlobStore(resolved.storage), resolved.taskQueue)) ?? 4;
  return {
    fabric: undefined,
    storage: resolved.storage,
    queueName: resolved.taskQueue,
    totalSlots,
    mode: resolved.mode,
    ...(resolved.instanceMemoryMb !== undefined ? { instanceMemoryMb: resolved.instanceMemoryMb } : {}),
  };
}
