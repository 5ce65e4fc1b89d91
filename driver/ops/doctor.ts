/**
 * The checks of `stratus doctor`: that a deployment can run jobs before a user submits one — the
 * task queue and its poison queue exist, the three containers exist, the caller's identity can
 * write, read and delete a blob and a queue message, and (given the function app's settings) the
 * executors' slot settings match what the driver assumes, and which signing mode the deployment is
 * in (Key Vault, off, or a plain-text key) and whether the driver holds the key the executors
 * verify with. Each check reports one line; a failed
 * check never throws here — the command decides the exit code (DoctorFailedError).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StratusError } from '../../contract/errors.js';
import { CODE_CONTAINER, DATA_CONTAINER, LOGS_CONTAINER, poisonQueueName } from '../../contract/names.js';
import { packageRoot } from '../../contract/package-root.js';
import {
  HOST_OVERRIDE_PREFIX,
  resolveQueueTriggerOptions,
  slotCount,
} from '../../contract/queue-trigger-options.js';
import { BlobStore } from '../../storage/blob-store.js';
import { redactSecrets } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { AZURE_ENV, type AzureConnection, resolveAzureConnection } from '../fabric/azure.js';
import { resolveSigningKey, type SecretReader } from '../fabric/signing-key.js';

/** The outcome of one check. */
export interface DoctorCheck {
  name: string;
  status: 'ok' | 'fail' | 'skip';
  detail: string;
}

/** What `runDoctor` checks against. */
export interface DoctorOptions {
  account?: string | undefined;
  connectionString?: string | undefined;
  queue?: string | undefined;
  /** The function app's settings: `az functionapp config appsettings list` JSON, or a name → value object. */
  functionAppSettingsFile?: string | undefined;
  /** Slots per executor the deployment was made with (STRATUS_SLOTS_PER_EXECUTOR). */
  slots?: number | undefined;
  /** Maximum instances the deployment was made with (STRATUS_MAX_INSTANCES). */
  maxInstances?: number | undefined;
  /** Default parallelism the driver will use (STRATUS_TOTAL_SLOTS). */
  totalSlots?: number | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** How the signing key is read from Key Vault; default the Key Vault SDK (tests inject one). */
  readSecret?: SecretReader | undefined;
}

/** Environment variables doctor reads besides the connection ones (azd writes them from the outputs). */
export const DOCTOR_ENV = {
  functionAppSettings: 'STRATUS_FUNCTION_APP_SETTINGS',
  slots: 'STRATUS_SLOTS_PER_EXECUTOR',
  maxInstances: 'STRATUS_MAX_INSTANCES',
} as const;

/** At least one doctor check failed. Not retryable: each failed check names what to fix. */
export class DoctorFailedError extends StratusError {
  constructor(failed: number, total: number) {
    super('DOCTOR_FAILED', `${failed} of ${total} checks failed`);
    this.name = 'DoctorFailedError';
  }
}

/** One redacted line for a failed check: HTTP status, service code and message, with a hint for 403. */
function describeError(error: unknown): string {
  const e = error as { statusCode?: number; code?: string; message?: string };
  const status = e.statusCode !== undefined ? `HTTP ${e.statusCode}` : undefined;
  const hint =
    e.statusCode === 403
      ? ' (the identity lacks a data role on the account: see docs/deploy.md, "Troubleshooting")'
      : '';
  const text = [status, e.code, (e.message ?? String(error)).split('\n')[0]].filter(Boolean).join(' ');
  return redactSecrets(`${text}${hint}`);
}

/** Run one check: its detail on success, the error described on failure (never throws). */
async function check(name: string, run: () => Promise<string>): Promise<DoctorCheck> {
  try {
    return { name, status: 'ok', detail: await run() };
  } catch (error) {
    return { name, status: 'fail', detail: describeError(error) };
  }
}

/** Read function app settings in either JSON shape the Azure CLI and portal export. */
export function readAppSettings(file: string): Record<string, string> {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const settings: Record<string, string> = {};
  if (Array.isArray(parsed)) {
    for (const item of parsed as { name?: unknown; value?: unknown }[]) {
      if (typeof item?.name === 'string') settings[item.name] = item.value == null ? '' : String(item.value);
    }
  } else if (parsed && typeof parsed === 'object') {
    const source = (parsed as { properties?: unknown }).properties ?? parsed;
    for (const [k, v] of Object.entries(source as Record<string, unknown>))
      settings[k] = v == null ? '' : String(v);
  } else {
    throw new Error(`${file} holds neither a list of {name, value} nor an object of settings`);
  }
  return settings;
}

/** The executor's host.json, shipped with the package (the same file that is deployed). */
function hostJson(): unknown {
  return JSON.parse(readFileSync(path.join(packageRoot(), 'executor-function', 'host.json'), 'utf8'));
}

/** A positive integer from `env[name]`; undefined when unset or malformed (doctor reports, never throws). */
function intFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/** The slot checks over the function app's settings. */
function slotChecks(
  settings: Record<string, string>,
  connection: AzureConnection,
  options: DoctorOptions,
): DoctorCheck[] {
  const env = options.env ?? process.env;
  const checks: DoctorCheck[] = [];
  // One processor: the settings must not lean on the processor-dependent default of newBatchThreshold.
  const queueOptions = resolveQueueTriggerOptions(hostJson(), settings, 1);
  const slots = slotCount(queueOptions);
  const thresholdSet = settings[`${HOST_OVERRIDE_PREFIX}newBatchThreshold`] !== undefined;
  checks.push(
    queueOptions.batchSize === 1 && thresholdSet
      ? {
          name: 'slot settings',
          status: 'ok',
          detail: `batchSize 1 + newBatchThreshold ${slots - 1} = ${slots} slots per executor`,
        }
      : {
          name: 'slot settings',
          status: 'fail',
          detail: `batchSize ${queueOptions.batchSize}${thresholdSet ? '' : ', newBatchThreshold unset'}: an executor's slots are only fixed with batchSize 1 and an explicit newBatchThreshold (slots - 1)`,
        },
  );
  const expectedSlots = options.slots ?? intFromEnv(env, DOCTOR_ENV.slots);
  if (expectedSlots !== undefined) {
    checks.push({
      name: 'slots per executor',
      status: slots === expectedSlots ? 'ok' : 'fail',
      detail: `function app has ${slots}, deployment says ${expectedSlots}`,
    });
  }
  const appTotal = Number(settings.STRATUS_TOTAL_SLOTS);
  const maxInstances = options.maxInstances ?? intFromEnv(env, DOCTOR_ENV.maxInstances);
  const driverTotal = connection.totalSlots;
  const expectations: string[] = [];
  let totalOk = Number.isSafeInteger(appTotal) && appTotal >= 1;
  if (maxInstances !== undefined) {
    expectations.push(`${slots} slots × ${maxInstances} instances = ${slots * maxInstances}`);
    totalOk &&= appTotal === slots * maxInstances;
  }
  if (driverTotal !== undefined) {
    expectations.push(`driver default parallelism ${driverTotal}`);
    totalOk &&= appTotal === driverTotal;
  }
  checks.push({
    name: 'total slots',
    status: totalOk ? 'ok' : 'fail',
    detail: `STRATUS_TOTAL_SLOTS=${settings.STRATUS_TOTAL_SLOTS ?? '(unset)'}${expectations.length ? `; expected ${expectations.join(', ')}` : ''}`,
  });
  const appQueue = settings.STRATUS_TASK_QUEUE;
  checks.push({
    name: 'task queue setting',
    status: appQueue === connection.taskQueue ? 'ok' : 'fail',
    detail: `function app listens on ${appQueue ?? '(unset)'}, driver submits to ${connection.taskQueue}`,
  });
  const storageSetting = settings.AzureWebJobsStorage ?? '';
  checks.push(
    /AccountKey=|SharedAccessSignature=/i.test(storageSetting)
      ? {
          name: 'executor identity',
          status: 'fail',
          detail: 'AzureWebJobsStorage holds a key: use the identity-based AzureWebJobsStorage__* settings',
        }
      : {
          name: 'executor identity',
          status:
            settings.AzureWebJobsStorage__credential?.toLowerCase() === 'managedidentity' ? 'ok' : 'fail',
          detail: `AzureWebJobsStorage__credential=${settings.AzureWebJobsStorage__credential ?? '(unset)'}${settings.AzureWebJobsStorage__clientId ? ', user-assigned identity' : ''}`,
        },
  );
  return checks;
}

/** The secret URI of an `@Microsoft.KeyVault(SecretUri=…)` app setting; undefined for any other value. */
export function keyVaultReferenceUri(value: string): string | undefined {
  return /^@Microsoft\.KeyVault\(SecretUri=([^)]+)\)$/i.exec(value.trim())?.[1];
}

/**
 * Which signing mode the deployment is in, from the app's STRATUS_SIGNING_KEY setting when the
 * settings file is given, else from the deployment outputs (STRATUS_SIGNING_KEY_URI); and whether
 * the driver gets the key — from the environment or, with its identity, from Key Vault, which also
 * proves its Key Vault Secrets User role. Never prints the key.
 */
async function signingCheck(
  settings: Record<string, string> | undefined,
  connection: AzureConnection,
  options: DoctorOptions,
): Promise<DoctorCheck> {
  const name = 'task signing';
  const env = options.env ?? process.env;
  const appValue = settings?.STRATUS_SIGNING_KEY?.trim();
  const appUri = appValue ? keyVaultReferenceUri(appValue) : undefined;
  const outputUri = env[AZURE_ENV.signingKeyUri]?.trim() || undefined;
  let driver: Awaited<ReturnType<typeof resolveSigningKey>>;
  try {
    driver = await resolveSigningKey({
      env,
      credential: connection.credential,
      readSecret: options.readSecret,
    });
  } catch (error) {
    return { name, status: 'fail', detail: `the driver cannot get the key: ${describeError(error)}` };
  }
  const driverSays =
    driver.source === 'key-vault'
      ? 'the driver read the key from Key Vault'
      : driver.source === 'environment'
        ? 'the driver signs with STRATUS_SIGNING_KEY'
        : 'the driver has no key';
  if (settings !== undefined) {
    if (!appValue) {
      return {
        name,
        status: 'ok',
        detail: `off (deployed with enableSigning=false): executors run any task message, so whoever may send to the task queue runs code as the executors' identity; ${driverSays}`,
      };
    }
    if (appUri === undefined) {
      return {
        name,
        status: 'fail',
        detail: `on, but STRATUS_SIGNING_KEY is a plain-text app setting: redeploy with infra/main.bicep, which keeps the key in Key Vault (docs/deploy.md, "Task signing")`,
      };
    }
    if (driver.source === 'none') {
      return {
        name,
        status: 'fail',
        detail: `on (Key Vault reference ${appUri}), but ${driverSays}: executors will refuse its tasks; set ${AZURE_ENV.signingKeyUri} (azd env get-values) or STRATUS_SIGNING_KEY`,
      };
    }
    if (driver.source === 'key-vault' && driver.secretUri !== appUri) {
      return {
        name,
        status: 'fail',
        detail: `on (Key Vault reference ${appUri}), but the driver read ${driver.secretUri}: executors will refuse its tasks`,
      };
    }
    return { name, status: 'ok', detail: `on (Key Vault reference ${appUri}); ${driverSays}` };
  }
  if (outputUri !== undefined) {
    return driver.source === 'none'
      ? {
          name,
          status: 'fail',
          detail: `on (Key Vault ${outputUri}), but ${driverSays}: sign in to Azure (--account / ${AZURE_ENV.account}) so it can read the key`,
        }
      : { name, status: 'ok', detail: `on (Key Vault ${outputUri}); ${driverSays}` };
  }
  return {
    name,
    status: 'skip',
    detail: `mode unknown (${driverSays}): give --function-app-settings <file.json>, or ${AZURE_ENV.signingKeyUri} from the deployment's outputs`,
  };
}

/** Run every check; never throws for a failed check (its line says why). */
export async function runDoctor(
  options: DoctorOptions,
  print: (line: string) => void,
): Promise<DoctorCheck[]> {
  const env = options.env ?? process.env;
  const checks: DoctorCheck[] = [];
  const report = (c: DoctorCheck) => {
    checks.push(c);
    // Details quote settings and service errors: every line goes through the redaction point.
    print(
      redactSecrets(
        `${c.status === 'ok' ? 'ok  ' : c.status === 'fail' ? 'FAIL' : 'skip'}  ${c.name}: ${c.detail}`,
      ),
    );
  };
  let connection: AzureConnection;
  try {
    connection = resolveAzureConnection({
      account: options.account,
      connectionString: options.connectionString,
      queue: options.queue,
      totalSlots: options.totalSlots,
      env,
    });
  } catch (error) {
    report({ name: 'connection', status: 'fail', detail: describeError(error) });
    return checks;
  }
  report({
    name: 'connection',
    status: 'ok',
    detail: `${connection.storage.description} (${connection.mode})`,
  });

  const blobs = new BlobStore(connection.storage);
  for (const queueName of [connection.taskQueue, poisonQueueName(connection.taskQueue)]) {
    report(
      await check(`queue ${queueName}`, async () => {
        if (!(await new StorageQueue(connection.storage, queueName).exists()))
          throw new Error('does not exist');
        return 'exists';
      }),
    );
  }
  for (const container of [CODE_CONTAINER, DATA_CONTAINER, LOGS_CONTAINER]) {
    report(
      await check(`container ${container}`, async () => {
        if (!(await connection.storage.blobService.getContainerClient(container).exists()))
          throw new Error('does not exist');
        return 'exists';
      }),
    );
  }
  const probe = randomBytes(6).toString('hex');
  report(
    await check('blob write/read/delete', async () => {
      const name = `doctor/probe-${probe}.txt`;
      const body = `stratus doctor ${probe}`;
      await blobs.put(DATA_CONTAINER, name, body);
      const back = (await blobs.get(DATA_CONTAINER, name)).toString('utf8');
      await blobs.delete(DATA_CONTAINER, name);
      if (back !== body) throw new Error(`read back ${JSON.stringify(back)}`);
      if (await blobs.exists(DATA_CONTAINER, name))
        throw new Error('the probe blob is still there after delete');
      return `${DATA_CONTAINER}/${name}`;
    }),
  );
  // A probe queue of its own: a message on the task queue would reach the executors.
  report(
    await check('queue message send/receive/delete', async () => {
      const queue = new StorageQueue(connection.storage, `stratus-doctor-${probe}`);
      await queue.ensure();
      try {
        const text = Buffer.from(JSON.stringify({ probe })).toString('base64');
        await queue.send(text);
        const [received] = await queue.receive(1, 30);
        if (received?.text !== text) throw new Error('the probe message did not come back');
        await queue.delete(received);
      } finally {
        await queue.destroy();
      }
      return `queue ${queue.name} created, used and deleted`;
    }),
  );

  const settingsFile = options.functionAppSettingsFile ?? env[DOCTOR_ENV.functionAppSettings]?.trim();
  let settings: Record<string, string> | undefined;
  if (settingsFile) {
    try {
      settings = readAppSettings(settingsFile);
    } catch (error) {
      report({ name: 'function app settings', status: 'fail', detail: describeError(error) });
    }
    if (settings) {
      try {
        for (const c of slotChecks(settings, connection, options)) report(c);
      } catch (error) {
        report({ name: 'slot settings', status: 'fail', detail: describeError(error) });
      }
    }
  } else {
    report({
      name: 'slot settings',
      status: 'skip',
      detail: `give --function-app-settings <file.json> (az functionapp config appsettings list …) or ${DOCTOR_ENV.functionAppSettings}`,
    });
  }
  report(await signingCheck(settings, connection, options));
  return checks;
}
