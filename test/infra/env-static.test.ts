/**
 * Issue 7, item 5: the environment the code reads and the environment the templates give it are
 * the same set. For the executor, the code is what infra/scripts/package-function.mjs bundles
 * (its esbuild metafile) and the environment is function-app.bicep's app settings; for the
 * driver, the code is everything the `stratus` CLI and `stratus/driver` import and the
 * environment is main.bicep's outputs, which azd writes to `.azure/<env>/.env`. Anything read but
 * not provided must be on a commented allow-list of optional settings with a default; anything
 * provided must be read by someone named here. The scan (env-reads.ts) uses the type checker, so
 * `process.env.X`, `env['X']`, destructuring and helpers that take a name all count.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CODE_CONTAINER,
  DATA_CONTAINER,
  DEFAULT_TASK_QUEUE,
  eventsQueueName,
  LOGS_CONTAINER,
  poisonQueueName,
} from '../../contract/names.js';
import { HOST_OVERRIDE_PREFIX } from '../../contract/queue-trigger-options.js';
import {
  IDENTITY_SETTING_SUFFIXES,
  STORAGE_CONNECTION_SETTING,
} from '../../executor-function/storage-binding.js';
import { builtFile, PACKAGE_ROOT } from '../helpers/dist.js';
import { bicepAppSettings } from './app-settings.js';
import { outputs, readBicep } from './bicep-text.js';
import {
  createSourceProgram,
  type EnvScan,
  importClosure,
  type OpaqueEnvHelper,
  scanEnvReads,
} from './env-reads.js';

/** The driver's entry points: the `stratus` CLI (package.json `bin`) and `stratus/driver`. */
const DRIVER_ENTRIES = ['driver/cli.ts', 'driver/index.ts'];

/**
 * Helpers whose reads the checker cannot follow. queue-trigger-options' `lookup` finds a key
 * case-insensitively over `Object.keys(source)`, as .NET configuration does.
 */
const OPAQUE_HELPERS: OpaqueEnvHelper[] = [
  { file: 'contract/queue-trigger-options.ts', name: 'lookup', envParam: 0, keyParam: 1 },
];

/** Settings the platform sets on every instance; the Bicep must not set them. */
const PLATFORM_SETTINGS: Record<string, string> = {
  WEBSITE_INSTANCE_ID: 'the instance id (App Service environment variables), our executor id on Azure',
  AZURE_FUNCTIONS_ENVIRONMENT: 'the host environment: Production on Azure, Development under Core Tools',
};

/** host.json queue settings the executor honours when overridden; host.json's own value applies otherwise. */
const HOST_JSON_DEFAULTED = ['maxDequeueCount', 'visibilityTimeout', 'maxPollingInterval', 'messageEncoding'];

/** Settings the executor reads that the deployment deliberately leaves unset: each has a default. */
const OPTIONAL_EXECUTOR_SETTINGS: Record<string, string> = {
  STRATUS_HEARTBEAT_MS: 'heartbeat interval, default 3 s, which suits Azure',
  STRATUS_CODE_CACHE: "bundle cache folder, default the instance's temp dir",
  STRATUS_EXECUTOR_ID: 'set by the local fabric for its hosts; on Azure the id is WEBSITE_INSTANCE_ID',
  // contract/redaction.ts reads these only to remove their values from log lines when set.
  STRATUS_CONNECTION: 'never set on Azure; read only so its key, if set, is redacted',
  AZURE_STORAGE_CONNECTION_STRING: 'never set by the deployment; read only so its key, if set, is redacted',
  STRATUS_LEASE_CHECK_MS:
    'how often an instance re-reads a lease to stop killed attempts, default 2 s; raise it past ~1,000 instances',
  STRATUS_SHUTDOWN_GRACE_MS:
    'on shutdown, how long running tasks get to stop after their signal before their threads end, default 3 s (under the host’s 5 s kill)',
  STRATUS_PERSIST_MEMORY_MB:
    "bound of the partitions an instance keeps for persist('memory'), default 512 MiB; a miss is recomputed",
  STRATUS_CACHE_MEMORY_MB:
    'bound of the in-memory copies an instance keeps of cache()d, checkpointed and handle partitions, default 256 MiB; a miss reads the blob',
  STRATUS_PERSIST_DISK_MB:
    "bound of the partitions an instance keeps on its temp disk for persist('disk'), default 2 GiB",
  STRATUS_COMPILE_CACHE: "0 turns off the task threads' compile cache; on by default, in the temp dir",
  NODE_COMPILE_CACHE: "Node's own compile-cache folder; when set, the task threads use it",
  STRATUS_PREWARM_THREADS: 'task threads started with the instance, default one per slot',
  // The connection-string form is for Azurite only: the deployment must not hold a key (bicep-static).
  [STORAGE_CONNECTION_SETTING]: 'connection string (Azurite); Azure uses the identity-based form',
  [`${STORAGE_CONNECTION_SETTING}__managedIdentityResourceId`]:
    'selects the user-assigned identity by resource id; the Bicep selects it by __clientId',
  // Linux app settings cannot contain ':', but the host accepts it as the section separator.
  ...Object.fromEntries(
    IDENTITY_SETTING_SUFFIXES.map((s) => [
      `${STORAGE_CONNECTION_SETTING}:${s}`,
      'the `:` spelling of __, for Windows and local settings',
    ]),
  ),
  ...Object.fromEntries(
    HOST_JSON_DEFAULTED.map((k) => [`${HOST_OVERRIDE_PREFIX}${k}`, "host.json's value applies"]),
  ),
};

/**
 * App settings the Functions host reads itself ("App settings reference for Azure Functions",
 * "Connecting to host storage with an identity", "Application Insights: authentication").
 */
const HOST_READ_SETTINGS: Record<string, string> = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'where the host sends logs and metrics',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Entra authentication to Application Insights',
  ...Object.fromEntries(
    ['accountName', 'blobServiceUri', 'queueServiceUri', 'credential', 'clientId'].map((s) => [
      `${STORAGE_CONNECTION_SETTING}__${s}`,
      "the host's own storage connection (the queue trigger's too)",
    ]),
  ),
  [`${HOST_OVERRIDE_PREFIX}batchSize`]: 'host.json override',
  [`${HOST_OVERRIDE_PREFIX}newBatchThreshold`]: 'host.json override',
};

/** App settings `stratus doctor` reads from the settings file `az functionapp config appsettings list` writes. */
const READ_BY_DOCTOR_FROM_APP_SETTINGS: Record<string, string> = {
  STRATUS_TOTAL_SLOTS: 'doctor checks it equals slots × instances and the driver default parallelism',
};

/** Variables the driver reads that no deployment output provides: each has a default or is a choice of the user's. */
const DRIVER_ONLY_SETTINGS: Record<string, string> = {
  STRATUS_CONNECTION:
    'a connection string (Azurite, `stratus local`); a deployment has no keys, so never an output',
  STRATUS_EXECUTORS: 'executors of the local fabric (default 2)',
  STRATUS_SLOTS: 'slots per executor of the local fabric (default 2)',
  STRATUS_TASK_MEMORY_MB: 'per-task memory budget of a run (default 256)',
  STRATUS_COST_USD_PER_GB_SECOND: "the region's Flex Consumption price (default East US list price)",
  STRATUS_COST_USD_PER_MILLION_EXECUTIONS: "the region's price per million executions",
  STRATUS_SIGNING_KEY:
    'a secret: deployment outputs are kept in plain text in the deployment history, so it is never one (the driver reads it from Key Vault by STRATUS_SIGNING_KEY_URI)',
  STRATUS_CODE_CACHE: "the driver's bundle cache folder (default the temp dir)",
  STRATUS_COMPILE_CACHE: "0 turns off the compile cache of the local fabric's Azurite and hosts",
  NODE_COMPILE_CACHE: "Node's own compile-cache folder; when set, the local fabric's children use it",
  STRATUS_FUNCTION_APP_SETTINGS: "the file doctor reads the app's settings from",
  STRATUS_SWEEP_GRACE_MINUTES: 'how long after its lease expired a crashed application is swept (default 60)',
  AzureWebJobsStorage: 'read only so a connection string in it, if set, is redacted from driver output',
  AZURE_STORAGE_CONNECTION_STRING: 'read only so its key, if set, is redacted from driver output',
  STRATUS_EVENT_LOG_DIR: 'where local runs keep a copy of their event log (default ./.stratus/event-logs)',
  STRATUS_HOME:
    'per-user state: the records of running `stratus local`s that `stratus run` joins (default ~/.stratus)',
  STRATUS_BUNDLE_CACHE_DIR: "the bundler's content-addressed cache (default ./.stratus/bundle-cache)",
};

/** Outputs azd itself reads (the resource group it deploys to, the region and tenant of the environment). */
const AZD_OUTPUTS = ['AZURE_LOCATION', 'AZURE_TENANT_ID', 'AZURE_RESOURCE_GROUP'];

/** Outputs used by the commands docs/deploy.md has you run, rather than by the driver. */
const DOCUMENTED_COMMAND_OUTPUTS: Record<string, string> = {
  STRATUS_FUNCTION_APP: '`az functionapp config appsettings list -n "$STRATUS_FUNCTION_APP"` for doctor',
  STRATUS_KEY_VAULT: '`az keyvault secret set --vault-name "$STRATUS_KEY_VAULT"` to rotate the signing key',
};

/** Read settings the executor reads that nothing provides. */
function unprovidedExecutorReads(
  names: Iterable<string>,
  appSettings: ReadonlyMap<string, string>,
): string[] {
  return [...names]
    .filter((n) => !appSettings.has(n) && !(n in PLATFORM_SETTINGS) && !(n in OPTIONAL_EXECUTOR_SETTINGS))
    .sort();
}

/** App settings nobody reads. */
function unreadAppSettings(
  appSettings: ReadonlyMap<string, string>,
  executorReads: ReadonlySet<string>,
): string[] {
  return [...appSettings.keys()]
    .filter(
      (n) => !executorReads.has(n) && !(n in HOST_READ_SETTINGS) && !(n in READ_BY_DOCTOR_FROM_APP_SETTINGS),
    )
    .sort();
}

/** Variables the driver reads that neither an output nor the allow-list accounts for. */
function unprovidedDriverReads(names: Iterable<string>, outputNames: ReadonlySet<string>): string[] {
  return [...names].filter((n) => !outputNames.has(n) && !(n in DRIVER_ONLY_SETTINGS)).sort();
}

function sorted(names: Iterable<string>): string[] {
  return [...names].sort();
}

const MAIN_OUTPUTS = new Set(outputs(readBicep('main.bicep')).keys());

let program: ts.Program;
let bundled: string[];
let executor: EnvScan;
let driver: EnvScan;

beforeAll(() => {
  const meta = JSON.parse(readFileSync(builtFile('function-app.meta.json'), 'utf8')) as {
    inputs: Record<string, unknown>;
  };
  bundled = Object.keys(meta.inputs)
    .filter((f) => !f.split('/').includes('node_modules'))
    .sort();
  program = createSourceProgram([...bundled, ...DRIVER_ENTRIES]);
  executor = scanEnvReads(program, bundled, OPAQUE_HELPERS);
  driver = scanEnvReads(program, importClosure(program, DRIVER_ENTRIES), OPAQUE_HELPERS);
}, 180_000);

describe('the executor reads exactly the settings function-app.bicep provides', () => {
  it('scans what package-function.mjs bundles: the import closure of the app and task-thread entries', () => {
    const meta = JSON.parse(readFileSync(builtFile('function-app.meta.json'), 'utf8')) as {
      outputs: Record<string, { entryPoint?: string }>;
    };
    const entries = Object.values(meta.outputs).flatMap((o) => (o.entryPoint ? [o.entryPoint] : []));
    expect(entries.sort()).toEqual(['executor-function/app.ts', 'executor-function/task-thread.ts']);
    // Equal unless dist/ is stale: `npm run build` first.
    expect(importClosure(program, entries)).toEqual(bundled);
  });

  it('understands every environment access in the bundle', () => {
    expect(executor.unresolved).toEqual([]);
  });

  it('finds reads in every form the bundle uses: direct, through helpers, and in the trigger binding', () => {
    const at = (name: string) => executor.reads.filter((r) => r.name === name).map((r) => r.at.split(':')[0]);
    expect(at('STRATUS_HEARTBEAT_MS')).toEqual(['executor-function/task-runner.ts']);
    // `%STRATUS_TASK_QUEUE%` and `connection: 'AzureWebJobsStorage'` in app.storageQueue(...).
    expect(at('STRATUS_TASK_QUEUE')).toContain('executor-function/app.ts');
    expect(at(STORAGE_CONNECTION_SETTING)).toContain('executor-function/app.ts');
    // `${name}__${suffix}` in storage-binding's read(), with name from connectFromSetting's default.
    expect(at(`${STORAGE_CONNECTION_SETTING}__clientId`)).toEqual(['executor-function/storage-binding.ts']);
    // signingKeyFromEnv(process.env), in the engine.
    expect(at('STRATUS_SIGNING_KEY')).toEqual(['contract/redaction.ts', 'contract/signing.ts']);
    expect(at(`${HOST_OVERRIDE_PREFIX}batchSize`)).toEqual(['contract/queue-trigger-options.ts']);
  });

  it('every setting it reads is an app setting, set by the platform, or an allow-listed optional one', () => {
    expect(unprovidedExecutorReads(executor.names, bicepAppSettings())).toEqual([]);
  });

  it('every allow-listed setting is still read, and none is also provisioned', () => {
    const listed = [...Object.keys(PLATFORM_SETTINGS), ...Object.keys(OPTIONAL_EXECUTOR_SETTINGS)];
    expect(listed.filter((n) => !executor.names.has(n))).toEqual([]);
    expect(listed.filter((n) => bicepAppSettings().has(n))).toEqual([]);
  });

  it('every app setting is read by the executor, by the Functions host, or by stratus doctor', () => {
    expect(unreadAppSettings(bicepAppSettings(), executor.names)).toEqual([]);
    const doctor = readFileSync(path.join(PACKAGE_ROOT, 'driver', 'ops', 'doctor.ts'), 'utf8');
    for (const name of Object.keys(READ_BY_DOCTOR_FROM_APP_SETTINGS))
      expect(doctor).toContain(`settings.${name}`);
  });

  it('fails for an app setting nobody reads', () => {
    const withUnused = new Map([...bicepAppSettings(), ['STRATUS_NOBODY_READS', "'x'"]]);
    expect(unreadAppSettings(withUnused, executor.names)).toEqual(['STRATUS_NOBODY_READS']);
  });

  describe('with new environment reads added to a bundled file', () => {
    const file = 'executor-function/task-runner.ts';
    const probe = [
      '',
      'function probeNewSettings(env: NodeJS.ProcessEnv) {',
      '  const { STRATUS_NEW_DESTRUCTURED } = process.env;',
      '  const byName = (name: string) => env[name];',
      '  return [',
      '    process.env.STRATUS_NEW_THING,',
      "    process.env['STRATUS_NEW_BRACKETS'],",
      '    STRATUS_NEW_DESTRUCTURED,',
      "    byName('STRATUS_NEW_BY_HELPER'),",
      "    'STRATUS_NEW_IN' in env,",
      '  ];',
      '}',
      'probeNewSettings(process.env);',
      '// A name computed at run time from something the scan cannot follow.',
      'export const probeDynamic = () => process.env[String(Date.now())];',
    ].join('\n');
    let scan: EnvScan;
    beforeAll(() => {
      const original = readFileSync(path.join(PACKAGE_ROOT, file), 'utf8');
      const changed = createSourceProgram(
        [...bundled, ...DRIVER_ENTRIES],
        new Map([[file, original + probe]]),
        program,
      );
      scan = scanEnvReads(changed, bundled, OPAQUE_HELPERS);
    }, 180_000);

    it('the check fails naming each new setting, whatever form reads it', () => {
      expect(unprovidedExecutorReads(scan.names, bicepAppSettings())).toEqual([
        'STRATUS_NEW_BRACKETS',
        'STRATUS_NEW_BY_HELPER',
        'STRATUS_NEW_DESTRUCTURED',
        'STRATUS_NEW_IN',
        'STRATUS_NEW_THING',
      ]);
    });

    it('an access whose name the scan cannot tell is reported, not skipped', () => {
      const lines = readFileSync(path.join(PACKAGE_ROOT, file), 'utf8').split('\n').length;
      const probeLine = lines + probe.split('\n').length - 1;
      expect(scan.unresolved.map((u) => u.at)).toEqual([`${file}:${probeLine}`]);
    });
  });

  it('names queues and containers only through contract/names.ts, so the Bicep checks see them all', () => {
    const storageNames = new Set([
      DEFAULT_TASK_QUEUE,
      poisonQueueName(DEFAULT_TASK_QUEUE),
      CODE_CONTAINER,
      DATA_CONTAINER,
      LOGS_CONTAINER,
    ]);
    const eventsPrefix = eventsQueueName('');
    const spelled: string[] = [];
    for (const file of bundled.filter((f) => f !== 'contract/names.ts')) {
      const visit = (node: ts.Node): void => {
        if (
          ts.isStringLiteralLike(node) &&
          (storageNames.has(node.text) || node.text.startsWith(eventsPrefix))
        )
          spelled.push(`${file}: '${node.text}'`);
        ts.forEachChild(node, visit);
      };
      visit(program.getSourceFile(path.join(PACKAGE_ROOT, file))!);
    }
    expect(spelled).toEqual([]);
  });
});

describe("the driver's environment is what the deployment outputs (azd env get-values)", () => {
  it('understands every environment access of the CLI and the driver library', () => {
    expect(driver.unresolved).toEqual([]);
  });

  it('finds what it is known to read (the scan itself works)', () => {
    for (const name of ['STRATUS_ACCOUNT', 'STRATUS_TASK_QUEUE', 'STRATUS_TOTAL_SLOTS', 'STRATUS_EXECUTORS'])
      expect(driver.names).toContain(name);
    // doctor resolves the app's host.json settings from a file, not from its own environment.
    expect(driver.names).not.toContain(`${HOST_OVERRIDE_PREFIX}batchSize`);
  });

  it('every variable it reads is a main.bicep output or an allow-listed driver-only one', () => {
    expect(unprovidedDriverReads(driver.names, MAIN_OUTPUTS)).toEqual([]);
    expect(unprovidedDriverReads(['STRATUS_NEW_DRIVER_THING'], MAIN_OUTPUTS)).toEqual([
      'STRATUS_NEW_DRIVER_THING',
    ]);
  });

  it('every allow-listed driver-only variable is still read, and none is also an output', () => {
    const listed = Object.keys(DRIVER_ONLY_SETTINGS);
    expect(listed.filter((n) => !driver.names.has(n))).toEqual([]);
    expect(listed.filter((n) => MAIN_OUTPUTS.has(n))).toEqual([]);
  });

  it('every output is read by the driver, by azd, or by a command docs/deploy.md runs', () => {
    const unread = sorted(MAIN_OUTPUTS).filter(
      (n) => !driver.names.has(n) && !AZD_OUTPUTS.includes(n) && !(n in DOCUMENTED_COMMAND_OUTPUTS),
    );
    expect(unread).toEqual([]);
    const deployDoc = readFileSync(path.join(PACKAGE_ROOT, 'docs', 'deploy.md'), 'utf8');
    for (const name of Object.keys(DOCUMENTED_COMMAND_OUTPUTS)) expect(deployDoc).toContain(`"$${name}"`);
    for (const name of AZD_OUTPUTS) expect(MAIN_OUTPUTS).toContain(name);
  });
});
