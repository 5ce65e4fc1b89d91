/**
 * Where a running `stratus local` says it is, so `stratus run --local` joins it instead of
 * starting a fabric of its own: a small record per task queue, `<home>/local/<queue>.json`
 * (home: STRATUS_HOME, else `~/.stratus`), written once the fabric is ready and removed when it
 * stops. A record can outlive its fabric (SIGKILL, a reboot): it counts only while its process
 * is alive and its storage answers, and a stale one is removed by whoever finds it.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { registerConnectionString } from '../../contract/redaction.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';

/** What a running `stratus local` records about itself. */
export interface LocalFabricRecord {
  v: 1;
  /** The `stratus local` process. */
  pid: number;
  /** Its Azurite's connection string (the public development key: not a secret). */
  connectionString: string;
  queue: string;
  executors: number;
  slotsPerExecutor: number;
  totalSlots: number;
  /** When it became ready (ms since epoch). */
  startedAt: number;
}

/** The folder stratus keeps per-user state in: STRATUS_HOME, else `~/.stratus`. */
export function stratusHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.STRATUS_HOME ? path.resolve(env.STRATUS_HOME) : path.join(homedir(), '.stratus');
}

/** The record file of the `stratus local` serving `queue`. */
export function localFabricRecordPath(queue: string, env: NodeJS.ProcessEnv = process.env): string {
  // Queue names are lowercase letters, digits and dashes (the service's rule): safe as a file name.
  return path.join(stratusHome(env), 'local', `${queue}.json`);
}

/** Record a ready `stratus local` (atomically: a reader never sees half a file). */
export function writeLocalFabricRecord(
  record: LocalFabricRecord,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const file = localFabricRecordPath(record.queue, env);
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(record)}\n`);
  renameSync(temp, file);
  return file;
}

/** Remove the record of `queue` if it is still `pid`'s (a newer `stratus local` may have replaced it). */
export function removeLocalFabricRecord(
  queue: string,
  pid: number,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const file = localFabricRecordPath(queue, env);
  const record = readRecord(file);
  if (record === undefined || record.pid === pid) rmSync(file, { force: true });
}

function readRecord(file: string): LocalFabricRecord | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // no record: no fabric running for this queue
  }
  try {
    const record = JSON.parse(text) as Partial<LocalFabricRecord>;
    if (
      record.v === 1 &&
      typeof record.pid === 'number' &&
      typeof record.connectionString === 'string' &&
      typeof record.queue === 'string' &&
      typeof record.totalSlots === 'number'
    )
      return record as LocalFabricRecord;
  } catch {
    // unreadable: treated as stale below
  }
  return {
    v: 1,
    pid: 0,
    connectionString: '',
    queue: '',
    executors: 0,
    slotsPerExecutor: 0,
    totalSlots: 0,
    startedAt: 0,
  };
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's (not ours to join, but not stale either).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What the lookup found: a fabric to join, a stale record (removed), or nothing. */
export type LocalFabricLookup =
  | { found: 'running'; record: LocalFabricRecord; file: string }
  | { found: 'stale'; file: string; reason: string }
  | { found: 'none' };

/**
 * The running `stratus local` for `queue`, if any. A record whose process is gone, or whose
 * storage does not answer within `probeTimeoutMs`, is stale: it is removed and reported as such.
 */
export async function findRunningLocalFabric(
  queue: string,
  options: { env?: NodeJS.ProcessEnv; probeTimeoutMs?: number } = {},
): Promise<LocalFabricLookup> {
  const env = options.env ?? process.env;
  const file = localFabricRecordPath(queue, env);
  const record = readRecord(file);
  if (record === undefined) return { found: 'none' };
  const stale = (reason: string): LocalFabricLookup => {
    // Only if it is still the record we judged: never remove one a new `stratus local` just wrote.
    removeLocalFabricRecord(queue, record.pid, env);
    return { found: 'stale', file, reason };
  };
  if (record.pid === 0) return stale('the record is unreadable');
  if (!processAlive(record.pid)) return stale(`its process ${record.pid} is not running`);
  registerConnectionString(record.connectionString);
  const probe = new StorageQueue(connectStorage({ connectionString: record.connectionString }), queue);
  const timeoutMs = options.probeTimeoutMs ?? 3_000;
  let timer: NodeJS.Timeout | undefined;
  const answered = await Promise.race([
    probe.exists().catch(() => false),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  if (!answered) return stale(`its storage did not answer for queue ${queue} within ${timeoutMs} ms`);
  return { found: 'running', record, file };
}
