/**
 * Secrets never reach a log, an event log or an error, whatever path the text takes. An Azurite
 * account with a recognisable key, a signing key and a SAS signature: jobs fail in several ways
 * that each quote a secret — a builder error on the driver, a user function that prints and
 * throws its executor's connection string and signing key, a bad CSV record holding the key,
 * a missing input named by a SAS URL — run through the CLI and through the library. The secrets
 * appear in none of: the CLI's stdout and stderr, `stratus doctor`'s output, the event log blobs
 * and their local copies, the executors' raw output, the errors the library throws. Each case
 * also shows its text did arrive (redacted), so the paths were exercised.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGS_CONTAINER } from '../../contract/names.js';
import { Driver } from '../../driver/app/driver.js';
import { type AzuriteHandle, startAzurite } from '../../driver/fabric/azurite.js';
import { type LocalFabric, startLocalFabric } from '../../driver/fabric/local-fabric.js';
import { startUiServer } from '../../driver/observe/ui/server.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { builtFile } from '../helpers/dist.js';
import { FAST_HOST_ENV, uniqueTaskQueue } from '../helpers/fabric.js';

const ACCOUNT = 'stratusredact';
const ACCOUNT_KEY = Buffer.from(
  'stratus-RECOGNISABLE-account-key-for-the-redaction-test-0123456789',
).toString('base64');
const SIGNING_KEY = 'RECOGNISABLE-signing-key-for-the-redaction-test-0123456789';
const SAS_SIGNATURE = 'RECOGNISABLE%2BsasSignature%2Fredaction0123456789%3D';

/** Every form a secret could be written in. */
const SECRETS = [
  ACCOUNT_KEY,
  encodeURIComponent(ACCOUNT_KEY),
  SIGNING_KEY,
  SAS_SIGNATURE,
  decodeURIComponent(SAS_SIGNATURE),
];

let azurite: AzuriteHandle;
let fabric: LocalFabric;
let dir: string;
let logDir: string;
const jobFile = path.resolve(import.meta.dirname, 'jobs', 'leaky.ts');
let csvFile: string;
let executorOutput = '';

function expectNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${where} contains ${secret}`).toBe(false);
}

/** Run the built CLI with the account and the signing key in its environment; never rejects. */
async function stratus(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [builtFile('driver/cli.js'), ...args],
      {
        timeout: 90_000,
        env: {
          ...process.env,
          STRATUS_CONNECTION: azurite.connectionString,
          STRATUS_SIGNING_KEY: SIGNING_KEY,
          STRATUS_TASK_QUEUE: fabric.queue,
          STRATUS_EVENT_LOG_DIR: logDir,
        },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A blob of this account named by a URL with a SAS token, as users copy them from the portal. */
function sasInputUrl(blob = 'missing-*.txt'): string {
  return `http://127.0.0.1:${azurite.blobPort}/${ACCOUNT}/inputs/${blob}?sv=2024-08-04&sp=r&sig=${SAS_SIGNATURE}`;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-secrets-'));
  logDir = path.join(dir, 'event-logs');
  csvFile = path.join(dir, 'accounts.csv');
  // A bad record (three fields under a two-field header) whose text is the account key itself.
  await writeFile(csvFile, `name,value\nok,1\n${ACCOUNT_KEY},2,3\n`);
  azurite = await startAzurite({ account: { name: ACCOUNT, key: ACCOUNT_KEY } });
  expect(azurite.connectionString).toContain(ACCOUNT_KEY);
  fabric = await startLocalFabric({
    executors: 1,
    slots: 2,
    queue: uniqueTaskQueue('secrets'),
    connectionString: azurite.connectionString,
    hostEnv: { ...FAST_HOST_ENV, STRATUS_SIGNING_KEY: SIGNING_KEY },
    log: () => undefined,
    onExecutorOutput: (_id, _stream, chunk) => {
      executorOutput += chunk.toString('utf8');
    },
  });
  await fabric.publish();
  const blobs = new BlobStore(connectStorage({ connectionString: azurite.connectionString }));
  await blobs.ensureContainers(['inputs']);
  await blobs.put('inputs', 'present.csv', `name,value\nok,1\n${ACCOUNT_KEY},2,3\nfine,4\n`);
}, 120_000);

afterAll(async () => {
  await fabric?.stop();
  await azurite?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('secrets are never logged', () => {
  it('CLI runs that fail in four ways print no secret, and neither do doctor, the event logs or the executors', async () => {
    const runs = {
      builder: await stratus('run', jobFile, '--param', 'mode=builder', '--total-slots', '2'),
      user: await stratus('run', jobFile, '--param', 'mode=user', '--total-slots', '2'),
      csv: await stratus(
        'run',
        jobFile,
        '--param',
        'mode=csv',
        '--param',
        `input=${csvFile}`,
        '--total-slots',
        '2',
      ),
      blob: await stratus('run', jobFile, '--param', 'mode=blob', '--param', `input=${sasInputUrl()}`),
    };
    // A run that works, reading its input by the SAS URL and skipping a bad record: the count's
    // name (in the summary and the event log's job-end) is the URL.
    const present = await stratus(
      'run',
      jobFile,
      '--param',
      'mode=csv',
      '--param',
      'skip=true',
      '--param',
      `input=${sasInputUrl('present.csv')}`,
    );
    expect(present.code, present.stderr).toBe(0);
    expect(present.stdout).toBe('2\n');
    expectNoSecret(present.stdout + present.stderr, 'output of the SAS URL run');
    const doctor = await stratus(
      'doctor',
      '--connection-string',
      azurite.connectionString,
      '--queue',
      fabric.queue,
    );

    // Each failure happened, with its message (secrets redacted) on stderr.
    expect(runs.builder.stderr).toContain(
      'builder cannot reach DefaultEndpointsProtocol=http;AccountName=stratusredact;AccountKey=***',
    );
    expect(runs.user.stderr).toContain(
      'task cannot reach DefaultEndpointsProtocol=http;AccountName=stratusredact;AccountKey=***',
    );
    expect(runs.user.stderr).toContain('with ***');
    expect(runs.csv.stderr).toMatch(/bad record in .*accounts\.csv at byte 16, line 3/);
    expect(runs.csv.stderr).toContain('"***,2,3"');
    expect(runs.blob.stderr).toContain('sig=***');
    for (const [mode, run] of Object.entries(runs)) {
      expect(run.code, `${mode}: ${run.stderr}`).toBe(1);
      expectNoSecret(run.stdout, `stdout of the ${mode} run`);
      expectNoSecret(run.stderr, `stderr of the ${mode} run`);
    }
    expect(doctor.stdout).toContain(`AccountName=${ACCOUNT}`);
    expectNoSecret(doctor.stdout + doctor.stderr, 'doctor output');

    // The event logs, in the account and their local copies, hold the failures and no secret.
    const blobs = new BlobStore(connectStorage({ connectionString: azurite.connectionString }));
    const logBlobs = await blobs.list(LOGS_CONTAINER, '');
    const blobTexts = await Promise.all(
      logBlobs.map(async (b) => (await blobs.get(LOGS_CONTAINER, b.name)).toString('utf8')),
    );
    const localTexts = await Promise.all(
      (await readdir(logDir)).map((f) => readFile(path.join(logDir, f), 'utf8')),
    );
    expect(logBlobs.length).toBeGreaterThanOrEqual(4);
    expect(blobTexts.join('\n')).toContain(
      `badRecords:${sasInputUrl('present.csv').replace(SAS_SIGNATURE, '***')}`,
    );
    expect(localTexts.length).toBe(logBlobs.length);
    expect(blobTexts.join('\n')).toContain('task cannot reach');
    expect(localTexts.join('\n')).toContain('bad record in');
    for (const [i, t] of blobTexts.entries()) expectNoSecret(t, `event log ${logBlobs[i]!.name}`);
    for (const t of localTexts) expectNoSecret(t, 'a local event log copy');

    // The executors printed the user's line and their own, redacted.
    expect(executorOutput).toContain(
      'connecting with DefaultEndpointsProtocol=http;AccountName=stratusredact;AccountKey=***',
    );
    expectNoSecret(executorOutput, 'executor output');
    // Six CLI runs, each type-checking its module first: more than the default minute on a busy machine.
  }, 180_000);

  it('errors the library throws carry no secret in message, stack, context or causes', async () => {
    const driver = await Driver.connect({
      connectionString: azurite.connectionString,
      taskQueue: fabric.queue,
      totalSlots: 2,
      signingKey: SIGNING_KEY,
      eventLog: false,
    });
    const previous = process.env.STRATUS_CONNECTION;
    // The builder runs in this process: give it the connection string to quote, as a user's env would.
    process.env.STRATUS_CONNECTION = azurite.connectionString;
    try {
      for (const params of [
        { mode: 'builder' },
        { mode: 'user' },
        { mode: 'csv', input: csvFile },
        { mode: 'blob', input: sasInputUrl() },
      ]) {
        const error = await driver.run(jobFile, params).then(
          () => undefined,
          (e: unknown) => e as Error & { context?: unknown; cause?: unknown },
        );
        expect(error, params.mode).toBeInstanceOf(Error);
        const causes: unknown[] = [];
        for (let c = error?.cause; c instanceof Error; c = (c as { cause?: unknown }).cause) {
          causes.push({ message: c.message, stack: c.stack });
        }
        const everything = JSON.stringify({
          message: error!.message,
          stack: error!.stack,
          context: error!.context,
          causes,
        });
        expect(everything).toMatch(/cannot reach|bad record|no input matches/);
        expectNoSecret(everything, `the ${params.mode} error`);
      }
    } finally {
      if (previous === undefined) delete process.env.STRATUS_CONNECTION;
      else process.env.STRATUS_CONNECTION = previous;
      await driver.close();
    }
  });

  it('the UI never serves a secret, even from a log written without redaction', async () => {
    const file = path.join(dir, 'old-release.jsonl');
    const appId = 'app-0-5ec7e75e';
    const at = Date.now();
    const events = [
      {
        type: 'app-start',
        at,
        logVersion: 1,
        appId,
        name: 'old.ts',
        mode: 'connect',
        taskQueue: 'q',
        totalSlots: 1,
        defaultParallelism: 1,
      },
      {
        type: 'job-start',
        at,
        appId,
        jobId: 0,
        action: 'count',
        actionName: 'result',
        hidden: false,
        stageIds: [],
        skippedStageIds: [],
      },
      {
        type: 'job-end',
        at,
        appId,
        jobId: 0,
        status: 'failed',
        error: {
          name: 'Error',
          message: `cannot reach ${azurite.connectionString} with STRATUS_SIGNING_KEY=${SIGNING_KEY}`,
        },
      },
    ];
    await writeFile(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const ui = await startUiServer({ source: { file } });
    try {
      const text = await (await fetch(new URL(`api/apps/${appId}`, ui.url))).text();
      expect(text).toContain('cannot reach');
      expectNoSecret(text, 'the UI answer');
    } finally {
      await ui.close();
    }
  });
});
