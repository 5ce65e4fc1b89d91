/**
 * Where a Driver's executors are: an embedded local fabric it starts (the default), a running
 * `stratus local` or any account by connection string, or a deployment by account name with
 * the user's Entra identity — decided from DriverOptions, then the environment.
 */
import type { TokenCredential } from '@azure/core-auth';
import { ConfigError } from '../../contract/errors.js';
import { CODE_CONTAINER, DEFAULT_TASK_QUEUE, fabricInfoBlobName } from '../../contract/names.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage, type StorageConnection } from '../../storage/connection.js';
import type { DriverOptions } from '../app/options.js';
import { type AzureConnection, resolveAzureConnection } from './azure.js';
import { type LocalFabric, startLocalFabric } from './local-fabric.js';

/** The subset of DriverOptions that decides where executors are. */
export type FabricChoice = Pick<
  DriverOptions,
  'local' | 'connectionString' | 'account' | 'credential' | 'taskQueue' | 'totalSlots' | 'log'
>;

/**
 * Options of `Driver.connect` whose fabric was started ahead (`stratus run` starts the embedded
 * fabric while it type-checks and loads the module): the driver takes that connection instead of
 * starting another. Not part of DriverOptions: only the command line starts a fabric this way.
 */
export interface FabricStartedAhead {
  fabricStartedAhead?: Promise<FabricConnection>;
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
  /** The Entra credential of a deployment reached by account name (signing-key.ts reads Key Vault with it). */
  credential?: TokenCredential;
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

/** True when `choice` joins a running fabric or a deployment rather than starting one. */
function isRemote(choice: FabricChoice): boolean {
  const wantsLocal = choice.local === true || typeof choice.local === 'object';
  return (
    !wantsLocal &&
    (choice.connectionString ??
      choice.account ??
      process.env.STRATUS_CONNECTION ??
      process.env.STRATUS_ACCOUNT) !== undefined
  );
}

/** The embedded fabric `choice` starts: options, then STRATUS_EXECUTORS / STRATUS_SLOTS, then 2 × 2. */
function embeddedShape(choice: FabricChoice): { executors: number; slots: number } {
  const local = typeof choice.local === 'object' ? choice.local : {};
  return {
    executors: local.executors ?? envInt('STRATUS_EXECUTORS') ?? 2,
    slots: local.slots ?? envInt('STRATUS_SLOTS') ?? 2,
  };
}

/** Slots a remote fabric offers: configured (option, STRATUS_TOTAL_SLOTS, slots × instances), else published, else 4. */
async function remoteSlots(
  resolved: AzureConnection,
): Promise<{ totalSlots: number; from: PlannedSlots['from'] }> {
  if (resolved.totalSlots !== undefined) return { totalSlots: resolved.totalSlots, from: 'configured' };
  const published = await publishedSlots(new BlobStore(resolved.storage), resolved.taskQueue);
  return published !== undefined
    ? { totalSlots: published, from: 'published' }
    : { totalSlots: 4, from: 'default' };
}

/** The slots a run with `choice` plans for, and where that number comes from. */
export interface PlannedSlots {
  totalSlots: number;
  mode: 'local' | 'connect' | 'azure';
  /**
   * `embedded`: the fabric `stratus run` would start (executors × slots); `configured`: given as
   * an option or by the deployment's environment; `published`: what a running `stratus local`
   * wrote for its queue; `default`: nothing said, 4.
   */
  from: 'embedded' | 'configured' | 'published' | 'default';
  executors?: number;
  slotsPerExecutor?: number;
  /** The connection to the fabric's storage (remote fabrics), e.g. to list blob inputs. */
  connection?: AzureConnection;
}

/**
 * The default parallelism `connectFabric(choice)` will give a run, decided the same way but
 * without starting or joining anything: what `stratus explain` plans for.
 */
export async function planSlots(choice: FabricChoice): Promise<PlannedSlots> {
  if (!isRemote(choice)) {
    const { executors, slots } = embeddedShape(choice);
    return {
      totalSlots: executors * slots,
      mode: 'local',
      from: 'embedded',
      executors,
      slotsPerExecutor: slots,
    };
  }
  const resolved = resolveRemote(choice);
  return { ...(await remoteSlots(resolved)), mode: resolved.mode, connection: resolved };
}

function resolveRemote(choice: FabricChoice): AzureConnection {
  return resolveAzureConnection({
    account: choice.account,
    connectionString: choice.connectionString,
    queue: choice.taskQueue,
    totalSlots: choice.totalSlots,
    credential: choice.credential,
  });
}

/** Start or join the fabric `choice` names; `signal` gives up starting an embedded fabric. */
export async function connectFabric(choice: FabricChoice, signal?: AbortSignal): Promise<FabricConnection> {
  if (!isRemote(choice)) {
    const local = typeof choice.local === 'object' ? choice.local : {};
    const queueName = choice.taskQueue ?? process.env.STRATUS_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
    const shape = embeddedShape(choice);
    // The driver submits as soon as storage serves, as to a deployment whose instances are still
    // starting: the hosts' start overlaps the job's preparation, and their first poll finds its
    // tasks. The driver plans for the fabric's shape; `executorsReady` fails it when none starts.
    const fabric = await startLocalFabric({
      ...shape,
      queue: queueName,
      log: choice.log ?? ((line: string) => process.stderr.write(`${line}\n`)),
      ...(local.hostEnv ? { hostEnv: local.hostEnv } : {}),
      waitForExecutors: false,
      ...(signal ? { signal } : {}),
    });
    return {
      fabric,
      storage: connectStorage({ connectionString: fabric.connectionString }),
      queueName,
      totalSlots: shape.executors * shape.slots,
      mode: 'local',
    };
  }
  const resolved = resolveRemote(choice);
  const { totalSlots } = await remoteSlots(resolved);
  return {
    fabric: undefined,
    storage: resolved.storage,
    queueName: resolved.taskQueue,
    totalSlots,
    mode: resolved.mode,
    ...(resolved.instanceMemoryMb !== undefined ? { instanceMemoryMb: resolved.instanceMemoryMb } : {}),
    ...(resolved.credential !== undefined ? { credential: resolved.credential } : {}),
  };
}
