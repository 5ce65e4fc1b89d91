/**
 * The records a running `stratus local` leaves for `stratus run` to join it: a record counts
 * only while its process lives and its storage answers; a stale one is removed by whoever finds
 * it; and a run that asks for another shape, or for a fabric of its own, does not join.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../driver/fabric/azurite.js';
import { joinRunningLocal } from '../../driver/fabric/fabric-flags.js';
import {
  findRunningLocalFabric,
  type LocalFabricRecord,
  localFabricRecordPath,
  writeLocalFabricRecord,
} from '../../driver/fabric/local-registry.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { suiteConnectionString, uniqueTaskQueue } from '../helpers/fabric.js';

let home: string;
let env: NodeJS.ProcessEnv;
let queue: string;

function record(overrides: Partial<LocalFabricRecord> = {}): LocalFabricRecord {
  return {
    v: 1,
    pid: process.pid,
    connectionString: suiteConnectionString(),
    queue,
    executors: 3,
    slotsPerExecutor: 2,
    totalSlots: 6,
    startedAt: Date.now(),
    ...overrides,
  };
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'stratus-registry-home-'));
  env = { ...process.env, STRATUS_HOME: home };
  queue = uniqueTaskQueue('registry');
  await new StorageQueue(connectStorage({ connectionString: suiteConnectionString() }), queue).ensure();
});
afterAll(async () => {
  await new StorageQueue(connectStorage({ connectionString: suiteConnectionString() }), queue).destroy();
  rmSync(home, { recursive: true, force: true });
});

describe('finding a running stratus local', () => {
  it('a record whose process is alive and whose storage answers is the fabric to join', async () => {
    const written = record();
    writeLocalFabricRecord(written, env);
    const found = await findRunningLocalFabric(queue, { env });
    expect(found).toEqual({ found: 'running', record: written, file: localFabricRecordPath(queue, env) });
  });

  it('a record whose process has exited is stale: reported and removed', async () => {
    const pid = deadPid();
    writeLocalFabricRecord(record({ pid }), env);
    const found = await findRunningLocalFabric(queue, { env });
    expect(found).toMatchObject({ found: 'stale', reason: `its process ${pid} is not running` });
    expect(existsSync(localFabricRecordPath(queue, env))).toBe(false);
  });

  it('a record whose storage does not answer is stale: reported and removed', async () => {
    const port = await freeLoopbackPort();
    const gone = suiteConnectionString().replace(/:\d+\//g, `:${port}/`);
    writeLocalFabricRecord(record({ connectionString: gone }), env);
    const found = await findRunningLocalFabric(queue, { env, probeTimeoutMs: 1_500 });
    expect(found).toMatchObject({ found: 'stale' });
    expect((found as { reason: string }).reason).toMatch(/storage did not answer/);
    expect(existsSync(localFabricRecordPath(queue, env))).toBe(false);
  });
});

describe('joining it from stratus run', () => {
  const runEnv = () => ({ ...env, STRATUS_TASK_QUEUE: queue });

  it('a run that would start a local fabric joins the running one, with its slots, and says so', async () => {
    writeLocalFabricRecord(record(), env);
    const join = await joinRunningLocal({}, { local: {} }, runEnv());
    expect(join.choice).toEqual({
      connectionString: suiteConnectionString(),
      taskQueue: queue,
      totalSlots: 6,
    });
    expect(join.line).toContain(
      `joining the running stratus local (pid ${process.pid}, 3 executors × 2 slots`,
    );
  });

  it('--own-fabric, or a shape the running one does not have, starts a fabric for the run', async () => {
    writeLocalFabricRecord(record(), env);
    const own = await joinRunningLocal({ ownFabric: true }, { local: {} }, runEnv());
    expect(own.choice).toEqual({ local: {} });
    const other = await joinRunningLocal({ executors: 4 }, { local: { executors: 4 } }, runEnv());
    expect(other.choice).toEqual({ local: { executors: 4 } });
    expect(other.line).toMatch(/not joining .* --executors 4 asks for another shape/);
    const same = await joinRunningLocal(
      { executors: 3, slots: 2 },
      { local: { executors: 3, slots: 2 } },
      runEnv(),
    );
    expect(same.choice).toMatchObject({ connectionString: suiteConnectionString() });
  });
});
