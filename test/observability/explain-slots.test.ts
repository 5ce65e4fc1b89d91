/**
 * `stratus explain` plans for the slots `stratus run` with the same flags will have: the
 * embedded fabric's --executors × --slots, the size a running `stratus local` published (read
 * through its connection string, exactly as the driver reads it), or a deployment's configured
 * slots × instances; --total-slots overrides the last two.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Driver } from '../../driver/app/driver.js';
import { planSlots } from '../../driver/fabric/connection.js';
import { type FabricFlags, fabricChoice } from '../../driver/fabric/fabric-flags.js';
import { type LocalFabric, startLocalFabric } from '../../driver/fabric/local-fabric.js';
import { explainJson } from '../helpers/explain-cli.js';
import { FAST_HOST_ENV, suiteConnectionString, uniqueTaskQueue } from '../helpers/fabric.js';

const JOBS = path.resolve(import.meta.dirname, 'fixtures/jobs');
const SLOT_ENV = [
  'STRATUS_EXECUTORS',
  'STRATUS_SLOTS',
  'STRATUS_TASK_QUEUE',
  'STRATUS_TOTAL_SLOTS',
  'STRATUS_SLOTS_PER_EXECUTOR',
  'STRATUS_MAX_INSTANCES',
  'STRATUS_CONNECTION',
  'STRATUS_ACCOUNT',
] as const;
const saved = Object.fromEntries(SLOT_ENV.map((k) => [k, process.env[k]]));

let fabric: LocalFabric;

beforeAll(async () => {
  for (const k of SLOT_ENV) delete process.env[k];
  fabric = await startLocalFabric({
    executors: 1,
    slots: 3,
    queue: uniqueTaskQueue('explain-slots'),
    connectionString: suiteConnectionString(),
    hostEnv: FAST_HOST_ENV,
    log: () => undefined,
  });
  await fabric.publish();
});
afterEach(() => {
  for (const k of SLOT_ENV) delete process.env[k];
});
afterAll(async () => {
  await fabric?.stop();
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
});

/** The slots `stratus explain` with these flags plans for: the run's fabric choice, planned. */
const explainSlots = (flags: FabricFlags) => planSlots(fabricChoice(flags));

/** `stratus explain pair-sums.ts <args> --json`, run by the built command line. */
const explainCli = (args: string[]) =>
  explainJson<{ slots: number; slotsFrom: string }>([path.join(JOBS, 'pair-sums.ts'), ...args]);

describe('the slots stratus explain plans for', () => {
  it('by default, the local fabric stratus run starts: --executors × --slots, else STRATUS_EXECUTORS × STRATUS_SLOTS, else 2 × 2', async () => {
    expect((await explainSlots({})).totalSlots).toBe(4);
    expect(await explainSlots({ executors: 3, slots: 5 })).toMatchObject({
      totalSlots: 15,
      from: 'embedded',
    });
    process.env.STRATUS_EXECUTORS = '1';
    process.env.STRATUS_SLOTS = '6';
    expect((await explainSlots({})).totalSlots).toBe(6);
    expect((await explainSlots({ slots: 2 })).totalSlots).toBe(2);
  });

  it('joining a running stratus local by connection string, the slots it published — the ones a run gets', async () => {
    process.env.STRATUS_TASK_QUEUE = fabric.queue;
    const planned = await explainSlots({ connectionString: fabric.connectionString });
    expect(planned).toMatchObject({ totalSlots: 3, from: 'published', mode: 'connect' });
    const driver = await Driver.connect({ connectionString: fabric.connectionString, eventLog: false });
    try {
      expect(driver.totalSlots).toBe(planned.totalSlots);
    } finally {
      await driver.close();
    }
    // The command line reads STRATUS_CONNECTION as stratus run does.
    process.env.STRATUS_CONNECTION = fabric.connectionString;
    expect(await explainCli([])).toMatchObject({ slots: 3, slotsFrom: 'published by the running fabric' });
    expect((await explainCli(['--total-slots', '8'])).slots).toBe(8);
  });

  it('on a deployment, its configured slots × instances, or STRATUS_TOTAL_SLOTS, or --total-slots', async () => {
    process.env.STRATUS_SLOTS_PER_EXECUTOR = '4';
    process.env.STRATUS_MAX_INSTANCES = '10';
    const account = { azure: true, account: 'ststratusexplain1' };
    expect(await explainSlots(account)).toMatchObject({ totalSlots: 40, mode: 'azure', from: 'configured' });
    process.env.STRATUS_TOTAL_SLOTS = '24';
    expect((await explainSlots(account)).totalSlots).toBe(24);
    expect((await explainSlots({ ...account, totalSlots: 7 })).totalSlots).toBe(7);
  });
});
