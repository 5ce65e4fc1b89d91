/**
 * `stratus doctor` against the suite's Azurite (the connection-string path; the account path
 * differs only in the credential): one line per check, a failing check fails the command.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { slotsEnv } from '../../contract/local-host-process.js';
import { CODE_CONTAINER, DATA_CONTAINER, LOGS_CONTAINER, poisonQueueName } from '../../contract/names.js';
import { startLocalFabric } from '../../driver/fabric/local-fabric.js';
import { readAppSettings, runDoctor } from '../../driver/ops/doctor.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { runBuiltCli } from '../helpers/dist.js';

const connectionString = inject('connectionString');
const storage = connectStorage({ connectionString });
/** No ambient STRATUS_* variables of the developer's shell. */
const env = {};

/** A deployment's queue, its poison queue, and the containers; returns the queue name. */
async function deployQueue(withPoison = true): Promise<string> {
  const queue = `doctor-${Math.random().toString(36).slice(2, 10)}`;
  await new StorageQueue(storage, queue).ensure();
  if (withPoison) await new StorageQueue(storage, poisonQueueName(queue)).ensure();
  await new BlobStore(storage).ensureContainers([CODE_CONTAINER, DATA_CONTAINER, LOGS_CONTAINER]);
  return queue;
}

/** Function app settings as `az functionapp config appsettings list` prints them. */
function azCliSettings(queue: string, slots: number, totalSlots: number): { name: string; value: string }[] {
  return Object.entries({
    AzureWebJobsStorage__accountName: 'ststratusabc123',
    AzureWebJobsStorage__credential: 'managedidentity',
    AzureWebJobsStorage__clientId: '00000000-1111-2222-3333-444444444444',
    STRATUS_TASK_QUEUE: queue,
    STRATUS_TOTAL_SLOTS: String(totalSlots),
    ...slotsEnv(slots),
  }).map(([name, value]) => ({ name, value }));
}

describe('stratus doctor', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stratus-doctor-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes every check on a healthy deployment, one line per check', async () => {
    const queue = await deployQueue();
    const lines: string[] = [];
    const checks = await runDoctor({ connectionString, queue, env }, (l) => lines.push(l));
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['connection', 'ok'],
      [`queue ${queue}`, 'ok'],
      [`queue ${queue}-poison`, 'ok'],
      [`container ${CODE_CONTAINER}`, 'ok'],
      [`container ${DATA_CONTAINER}`, 'ok'],
      [`container ${LOGS_CONTAINER}`, 'ok'],
      ['blob write/read/delete', 'ok'],
      ['queue message send/receive/delete', 'ok'],
      ['slot settings', 'skip'],
      ['task signing', 'skip'],
    ]);
    expect(lines).toHaveLength(checks.length);
    expect(lines[0]).toMatch(/^ok {4}connection: .*devstoreaccount1.*\(connect\)$/);
    // The account key never reaches the output.
    expect(lines.join('\n')).not.toContain('Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq');
  });

  it('passes against a local fabric as `stratus local` starts it (its poison queue included)', async () => {
    const queue = `doctor-local-${Math.random().toString(36).slice(2, 10)}`;
    const fabric = await startLocalFabric({ executors: 0, slots: 1, queue, connectionString });
    try {
      const checks = await runDoctor({ connectionString, queue, env }, () => {});
      expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(checks.find((c) => c.name === `queue ${queue}-poison`)?.status).toBe('ok');
    } finally {
      await fabric.stop();
    }
  });

  it('leaves no probe blob or probe queue behind', async () => {
    const queue = await deployQueue();
    await runDoctor({ connectionString, queue, env }, () => {});
    expect(await new BlobStore(storage).list(DATA_CONTAINER, 'doctor/')).toEqual([]);
    const probes: string[] = [];
    for await (const q of storage.queueService.listQueues({ prefix: 'stratus-doctor-' })) probes.push(q.name);
    expect(probes).toEqual([]);
  });

  it('a missing poison queue fails its check, and the command exits with an error', async () => {
    const queue = await deployQueue(false);
    const checks = await runDoctor({ connectionString, queue, env }, () => {});
    expect(checks.find((c) => c.name === `queue ${queue}-poison`)).toMatchObject({
      status: 'fail',
      detail: 'does not exist',
    });
    const cli = await runBuiltCli(['doctor', '--connection-string', connectionString, '--queue', queue]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^stratus: 1 of \d+ checks failed\n$/);
    expect(cli.stdout.split('\n').filter((l) => l.startsWith('FAIL'))).toEqual([
      `FAIL  queue ${queue}-poison: does not exist`,
    ]);
  });

  it('checks the function app slot settings against the deployment and the driver', async () => {
    const queue = await deployQueue();
    const file = path.join(dir, 'good.json');
    await writeFile(file, JSON.stringify(azCliSettings(queue, 4, 160)));
    const lines: string[] = [];
    const checks = await runDoctor(
      {
        connectionString,
        queue,
        functionAppSettingsFile: file,
        slots: 4,
        maxInstances: 40,
        totalSlots: 160,
        env,
      },
      (l) => lines.push(l),
    );
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(lines).toContain('ok    slot settings: batchSize 1 + newBatchThreshold 3 = 4 slots per executor');
    expect(lines).toContain('ok    slots per executor: function app has 4, deployment says 4');
  });

  it('a slot setting that disagrees with the deployment fails, through the CLI, with the env the azd outputs give', async () => {
    const queue = await deployQueue();
    const file = path.join(dir, 'bad.json');
    // The app was left at 2 slots while the deployment says 4 × 40 = 160.
    await writeFile(file, JSON.stringify(azCliSettings(queue, 2, 160)));
    const { STRATUS_ACCOUNT: _account, ...shell } = process.env;
    const cli = await runBuiltCli(['doctor'], {
      env: {
        ...shell,
        STRATUS_CONNECTION: connectionString,
        STRATUS_TASK_QUEUE: queue,
        STRATUS_FUNCTION_APP_SETTINGS: file,
        STRATUS_SLOTS_PER_EXECUTOR: '4',
        STRATUS_MAX_INSTANCES: '40',
        STRATUS_TOTAL_SLOTS: '160',
      },
    });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toBe('stratus: 2 of 14 checks failed\n');
    expect(cli.stdout.split('\n').filter((l) => l.startsWith('FAIL'))).toEqual([
      'FAIL  slots per executor: function app has 2, deployment says 4',
      'FAIL  total slots: STRATUS_TOTAL_SLOTS=160; expected 2 slots × 40 instances = 80, driver default parallelism 160',
    ]);
  });

  it('an app whose host.json batchSize is left at its default fails the slot check', async () => {
    const queue = await deployQueue();
    const file = path.join(dir, 'default-batch.json');
    await writeFile(
      file,
      JSON.stringify({
        STRATUS_TASK_QUEUE: queue,
        AzureFunctionsJobHost__extensions__queues__batchSize: '16',
      }),
    );
    const checks = await runDoctor({ connectionString, queue, functionAppSettingsFile: file, env }, () => {});
    expect(checks.find((c) => c.name === 'slot settings')?.status).toBe('fail');
    expect(checks.find((c) => c.name === 'executor identity')?.status).toBe('fail');
  });

  it('an unreachable or unauthorised account is reported per check, not as a crash', async () => {
    const queue = await deployQueue();
    // A wrong key: every data request is refused with 403.
    const wrongKey = connectionString.replace(
      /AccountKey=[^;]+/,
      `AccountKey=${Buffer.from('wrong').toString('base64')}`,
    );
    const checks = await runDoctor({ connectionString: wrongKey, queue, env }, () => {});
    const failed = checks.filter((c) => c.status === 'fail');
    expect(failed.length).toBeGreaterThanOrEqual(7);
    expect(failed[0]?.detail).toMatch(/403/);
  });

  it('reads settings in both shapes: the az CLI list and a name → value object', async () => {
    const list = path.join(dir, 'list.json');
    const object = path.join(dir, 'object.json');
    await writeFile(list, JSON.stringify([{ name: 'A', value: '1', slotSetting: false }]));
    await writeFile(object, JSON.stringify({ properties: { A: '1' } }));
    expect(readAppSettings(list)).toEqual({ A: '1' });
    expect(readAppSettings(object)).toEqual({ A: '1' });
  });

  it('with no deployment given, the connection check says what to pass', async () => {
    const checks = await runDoctor({ env }, () => {});
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ name: 'connection', status: 'fail' });
    expect(checks[0]?.detail).toMatch(/--account/);
  });

  describe('reports which signing mode the deployment is in', () => {
    const uri = 'https://kv-stratus-abc123.vault.azure.net/secrets/stratus-signing-key';
    const driverKey = 'd'.repeat(48);

    /** The signing check of a run against app settings with STRATUS_SIGNING_KEY = `value` (unset when undefined). */
    async function signing(value: string | undefined, driverEnv: NodeJS.ProcessEnv) {
      const queue = await deployQueue();
      const file = path.join(dir, `signing-${Math.random().toString(36).slice(2)}.json`);
      const settings = azCliSettings(queue, 4, 160);
      if (value !== undefined) settings.push({ name: 'STRATUS_SIGNING_KEY', value });
      await writeFile(file, JSON.stringify(settings));
      const lines: string[] = [];
      const checks = await runDoctor(
        { connectionString, queue, functionAppSettingsFile: file, env: driverEnv },
        (l) => lines.push(l),
      );
      return { check: checks.find((c) => c.name === 'task signing')!, lines };
    }

    it('on: a Key Vault reference, with the driver holding the key', async () => {
      const { check, lines } = await signing(`@Microsoft.KeyVault(SecretUri=${uri})`, {
        STRATUS_SIGNING_KEY: driverKey,
      });
      expect(check).toEqual({
        name: 'task signing',
        status: 'ok',
        detail: `on (Key Vault reference ${uri}); the driver signs with STRATUS_SIGNING_KEY`,
      });
      expect(lines.join('\n')).not.toContain(driverKey);
    });

    it('on, but the driver has no key: fails, since the executors would refuse every task', async () => {
      const { check } = await signing(`@Microsoft.KeyVault(SecretUri=${uri})`, {});
      expect(check.status).toBe('fail');
      expect(check.detail).toMatch(
        /the driver has no key: executors will refuse its tasks; set STRATUS_SIGNING_KEY_URI/,
      );
    });

    it('off: says so, and what it means', async () => {
      const { check } = await signing(undefined, {});
      expect(check.status).toBe('ok');
      expect(check.detail).toMatch(
        /^off \(deployed with enableSigning=false\): executors run any task message/,
      );
    });

    it('a key kept as a plain app setting fails, and the key is not printed', async () => {
      const plain = 'p'.repeat(40);
      const { check, lines } = await signing(plain, { STRATUS_SIGNING_KEY: plain });
      expect(check.status).toBe('fail');
      expect(check.detail).toMatch(/plain-text app setting/);
      expect(lines.join('\n')).not.toContain(plain);
    });

    it('without the settings file, the outputs say signing is on; a driver without an Entra identity cannot read the key', async () => {
      const queue = await deployQueue();
      const checks = await runDoctor(
        { connectionString, queue, env: { STRATUS_SIGNING_KEY_URI: uri } },
        () => {},
      );
      expect(checks.find((c) => c.name === 'task signing')).toMatchObject({ status: 'fail' });
      expect(checks.find((c) => c.name === 'task signing')?.detail).toMatch(
        /^on \(Key Vault .*\), but the driver has no key/,
      );
    });
  });
});
