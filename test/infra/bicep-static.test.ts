/**
 * Static checks of the azd template against the code, since no Bicep compiler runs here: the
 * queue and container names are contract/names.ts', the storage connection is identity-based,
 * roles are the documented built-in ones, nothing secret reaches app settings, and the Flex
 * Consumption conventions hold. env-static.test.ts checks every setting the code reads against
 * the app settings and outputs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  appPrefix,
  CODE_CONTAINER,
  DATA_CONTAINER,
  DEFAULT_TASK_QUEUE,
  LOGS_CONTAINER,
  poisonQueueName,
} from '../../contract/names.js';
import { MIN_SIGNING_KEY_LENGTH } from '../../contract/signing.js';
import { AZURE_ENV } from '../../driver/fabric/azure.js';
import { STORAGE_CONNECTION_SETTING } from '../../executor-function/storage-binding.js';
import { PACKAGE_ROOT } from '../helpers/dist.js';
import { bicepAppSettings, FUNCTION_APP_BICEP } from './app-settings.js';
import { keyVaultReferenceExpr, plainSecretSettings, secureParamLeaks } from './bicep-secrets.js';
import {
  balancedBlock,
  INFRA_DIR,
  moduleParams,
  outputs,
  params,
  readBicep,
  resources,
  stringLiteral,
} from './bicep-text.js';

const MAIN = readBicep('main.bicep');
const STORAGE = readBicep('modules/storage.bicep');
const KEY_VAULT = readBicep('modules/key-vault.bicep');
const read = (relative: string) => readFileSync(path.join(PACKAGE_ROOT, relative), 'utf8');
const ALL_BICEP = readdirSync(INFRA_DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.bicep'))
  .map((f) => ({ file: f, text: readBicep(f) }));

/**
 * Azure built-in role definition ids ("Azure built-in roles" reference, Storage and Monitor
 * categories). They are the same in every tenant and cloud.
 */
const BUILT_IN_ROLES: Record<string, string> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
  '4633458b-17de-408a-b874-0445c86b69e6': 'Key Vault Secrets User',
};

/** App settings the Flex Consumption plan rejects or ignores (its "deprecations" list), plus the per-process worker count. */
const FLEX_UNSUPPORTED_SETTINGS = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_PROCESS_COUNT',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD',
];

describe('the azd template matches what the code reads', () => {
  const appSettings = bicepAppSettings();

  it('AzureWebJobsStorage is identity-based: account, both service URIs, managedidentity and the client id', () => {
    expect(appSettings.has(STORAGE_CONNECTION_SETTING)).toBe(false);
    expect(appSettings.get('AzureWebJobsStorage__accountName')).toBe('account.name');
    expect(appSettings.get('AzureWebJobsStorage__blobServiceUri')).toBe(
      'account.properties.primaryEndpoints.blob',
    );
    expect(appSettings.get('AzureWebJobsStorage__queueServiceUri')).toBe(
      'account.properties.primaryEndpoints.queue',
    );
    expect(stringLiteral(appSettings.get('AzureWebJobsStorage__credential') ?? '')).toBe('managedidentity');
    expect(appSettings.get('AzureWebJobsStorage__clientId')).toBe('identityClientId');
    expect(moduleParams(MAIN, 'functionApp').params.get('identityClientId')).toBe(
      'identity.outputs.clientId',
    );
  });

  it('the task queue setting is the deployed queue, whose default is the engine default', () => {
    expect(appSettings.get('STRATUS_TASK_QUEUE')).toBe('taskQueueName');
    expect(moduleParams(MAIN, 'functionApp').params.get('taskQueueName')).toBe(
      'storage.outputs.taskQueueName',
    );
    expect(params(MAIN).get('taskQueueName')?.defaultExpr).toBe(`'${DEFAULT_TASK_QUEUE}'`);
    expect(params(STORAGE).get('taskQueueName')?.defaultExpr).toBe(`'${DEFAULT_TASK_QUEUE}'`);
    expect(moduleParams(MAIN, 'storage').params.get('taskQueueName')).toBe('taskQueueName');
  });

  it('the queues are the task queue and its poison queue, as contract/names.ts names them', () => {
    const queues = resources(STORAGE).filter((r) => r.type.endsWith('/queueServices/queues'));
    expect(queues.map((q) => q.symbol).sort()).toEqual(['poisonQueue', 'taskQueue']);
    const names = queues.map((q) => {
      const block = balancedBlock(STORAGE, STORAGE.indexOf(`resource ${q.symbol} `));
      const expr = /\n\s*name:\s*(.+)\n/.exec(block)![1]!.trim();
      return expr === 'taskQueueName'
        ? DEFAULT_TASK_QUEUE
        : expr.replace(/^'(.*)'$/, '$1').replace(`\${taskQueueName}`, DEFAULT_TASK_QUEUE);
    });
    expect(names.sort()).toEqual([DEFAULT_TASK_QUEUE, poisonQueueName(DEFAULT_TASK_QUEUE)].sort());
  });

  it('the containers are the three stratus containers plus the deployment package container', () => {
    const list = /var stratusContainers = \[([^\]]*)\]/.exec(STORAGE)![1]!;
    const declared = [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(declared.sort()).toEqual([CODE_CONTAINER, DATA_CONTAINER, LOGS_CONTAINER].sort());
    const containerResources = resources(STORAGE).filter((r) => r.type.endsWith('/blobServices/containers'));
    expect(containerResources.map((r) => r.symbol).sort()).toEqual(['containers', 'deploymentContainer']);
    // The function app runs from the deployment container of the same account.
    expect(moduleParams(MAIN, 'functionApp').params.get('deploymentContainerName')).toBe(
      'storage.outputs.deploymentContainerName',
    );
  });

  it('the lifecycle rule deletes exactly the per-application prefix of the data container after N days', () => {
    const appsPrefix = appPrefix('x').slice(0, -'x/'.length);
    expect(STORAGE).toContain(
      `prefixMatch: [\n                '${DATA_CONTAINER}/${appsPrefix}'\n              ]`,
    );
    expect(STORAGE).toMatch(/daysAfterModificationGreaterThan: tempDataRetentionDays/);
    expect(params(MAIN).get('tempDataRetentionDays')?.minValue).toBe(1);
  });
});

describe('the azd template follows Azure conventions', () => {
  it('uses only the documented built-in role definition ids, by subscriptionResourceId', () => {
    const used = new Set<string>();
    for (const { text } of ALL_BICEP) {
      for (const m of text.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/g))
        used.add(m[1]!);
      for (const m of text.matchAll(/roleDefinitionId:\s*(.+)/g)) {
        expect(m[1]).toMatch(/^subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', \w+\)$/);
      }
    }
    expect([...used].filter((id) => !(id in BUILT_IN_ROLES))).toEqual([]);
    expect(used.size).toBe(Object.keys(BUILT_IN_ROLES).length);
  });

  it('gives the executor identity and the deploying principal both storage data roles', () => {
    const roles = readBicep('modules/storage-roles.bicep');
    expect(roles).toContain("storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'");
    expect(roles).toContain("storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'");
    expect(roles).toMatch(/name: guid\(account\.id, principalId, roleId\)/);
    const executor = moduleParams(MAIN, 'executorRoles');
    const deployer = moduleParams(MAIN, 'deployerRoles');
    expect(executor.path).toBe('modules/storage-roles.bicep');
    expect(deployer.path).toBe('modules/storage-roles.bicep');
    expect(executor.params.get('principalId')).toBe('identity.outputs.principalId');
    expect(stringLiteral(executor.params.get('principalType')!)).toBe('ServicePrincipal');
    expect(deployer.params.get('principalId')).toBe('principalId');
    expect(MAIN).toMatch(/module deployerRoles '[^']+' = if \(!empty\(principalId\)\)/);
    // The app must not start before its identity can reach storage.
    expect(balancedBlock(MAIN, MAIN.indexOf('module functionApp '))).toMatch(
      /dependsOn: \[\s*executorRoles\b/,
    );
  });

  it('keeps account keys and connection strings out of app settings and the template', () => {
    for (const { file, text } of ALL_BICEP) {
      expect(text, file).not.toMatch(
        /listKeys|listConnectionStrings|AccountKey=|DefaultEndpointsProtocol|primaryKey/i,
      );
    }
    // A setting whose name says it holds a secret is a Key Vault reference, never the value.
    expect(plainSecretSettings(bicepAppSettings(), FUNCTION_APP_BICEP)).toEqual([]);
    expect(STORAGE).toMatch(/allowSharedKeyAccess: false/);
    expect(STORAGE).toMatch(/allowBlobPublicAccess: false/);
    expect(STORAGE).toMatch(/minimumTlsVersion: 'TLS1_2'/);
    // The App Insights connection string carries no credential once local auth is off.
    expect(readBicep('modules/monitoring.bicep')).toMatch(/DisableLocalAuth: true/);
  });

  it('sets no app setting the Flex Consumption plan does not support', () => {
    const names = [...bicepAppSettings().keys()];
    expect(names.filter((n) => FLEX_UNSUPPORTED_SETTINGS.includes(n))).toEqual([]);
  });

  it('declares a Flex Consumption plan and a Linux function app with functionAppConfig', () => {
    const fa = FUNCTION_APP_BICEP;
    expect(fa).toMatch(/name: 'FC1'\s+tier: 'FlexConsumption'/);
    expect(fa).toMatch(/kind: 'functionapp,linux'/);
    expect(fa).toMatch(/reserved: true/);
    const config = balancedBlock(fa, fa.indexOf('functionAppConfig:'));
    expect(config).toMatch(/type: 'blobContainer'/);
    expect(config).toMatch(
      /type: 'UserAssignedIdentity'\s+userAssignedIdentityResourceId: identityResourceId/,
    );
    expect(config).toMatch(/instanceMemoryMB: instanceMemoryMB\s+maximumInstanceCount: maximumInstanceCount/);
    expect(config).toMatch(/name: 'node'\s+version: nodeVersion/);
    expect(params(fa).get('instanceMemoryMB')?.allowed).toEqual(['512', '2048', '4096']);
    // The documented range of a Flex Consumption app's maximum instance count (flex-consumption-plan,
    // Considerations > Scale), in the module and in main.bicep, whose default must lie inside it.
    for (const text of [fa, MAIN]) {
      const max = params(text).get('maximumInstanceCount');
      expect([max?.minValue, max?.maxValue]).toEqual([40, 1000]);
    }
    expect(Number(params(MAIN).get('maximumInstanceCount')?.defaultExpr)).toBeGreaterThanOrEqual(40);
  });

  it('uses API versions that know every property we set', () => {
    const minimum: Record<string, string> = {
      // functionAppConfig (Flex Consumption) exists from 2023-12-01 on.
      'Microsoft.Web/sites': '2023-12-01',
      'Microsoft.Web/serverfarms': '2023-12-01',
      'Microsoft.Authorization/roleAssignments': '2022-04-01',
      'Microsoft.Storage/storageAccounts': '2023-01-01',
    };
    for (const { file, text } of ALL_BICEP) {
      for (const r of resources(text)) {
        const min = Object.entries(minimum).find(
          ([type]) => r.type === type || r.type.startsWith(`${type}/`),
        );
        if (min) expect(r.apiVersion >= min[1], `${file}: ${r.type}@${r.apiVersion}`).toBe(true);
        expect(r.apiVersion, `${file}: ${r.type}`).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }
    }
  });

  it('tags the app with the azd service name of azure.yaml, which deploys the packaged function app', () => {
    const yaml = readFileSync(path.join(PACKAGE_ROOT, 'azure.yaml'), 'utf8');
    const service = /^services:\n {2}(\w[\w-]*):\n((?: {4}.+\n)+)/m.exec(yaml);
    expect(service).not.toBeNull();
    const [, name, body] = service!;
    expect(body).toMatch(/^ {4}host: function$/m);
    expect(body).toMatch(/^ {4}language: ts$/m);
    expect(body).toMatch(/^ {4}project: \.$/m);
    expect(body).toMatch(/^ {4}dist: dist\/function-app$/m);
    expect(stringLiteral(moduleParams(MAIN, 'functionApp').params.get('serviceName')!)).toBe(name);
    expect(FUNCTION_APP_BICEP).toMatch(/tags: union\(tags, \{ 'azd-service-name': serviceName \}\)/);
    // azd builds with the root package's `build` script, which must end by packaging the app.
    const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.build).toMatch(/npm run package:function$/);
  });

  it('outputs everything the driver needs, under the environment names it reads', () => {
    const out = [...MAIN.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1]);
    for (const name of Object.values(AZURE_ENV).filter((n) => n !== AZURE_ENV.connectionString)) {
      expect(out).toContain(name);
    }
    expect(out).toContain('STRATUS_FUNCTION_APP');
    expect(out).toContain('STRATUS_SLOTS_PER_EXECUTOR');
    expect(out).toContain('STRATUS_MAX_INSTANCES');
  });
});

describe('task signing is on by default, and its key lives only in Key Vault', () => {
  const files = new Map(ALL_BICEP.map(({ file, text }) => [file.split(path.sep).join('/'), text]));

  it('enableSigning defaults to true, and the vault is deployed exactly when it is', () => {
    expect(params(MAIN).get('enableSigning')).toMatchObject({ type: 'bool', defaultExpr: 'true' });
    expect(MAIN).toMatch(/^module keyVault 'modules\/key-vault\.bicep' = if \(enableSigning\) \{/m);
    expect(moduleParams(MAIN, 'functionApp').params.get('signingKeySecretUri')).toBe(
      "enableSigning ? keyVault!.outputs.signingKeySecretUri : ''",
    );
    const azdParams = JSON.parse(read('infra/main.parameters.json')).parameters;
    expect(azdParams.enableSigning.value).toBe(`\${STRATUS_ENABLE_SIGNING=true}`);
  });

  it('the key is a @secure() parameter azd generates once (no default, which would skip or rotate it)', () => {
    const key = params(MAIN).get('signingKey');
    expect(key).toMatchObject({ type: 'string', secure: true });
    expect(key?.defaultExpr).toBeUndefined();
    const decorators = MAIN.slice(0, MAIN.indexOf('param signingKey string'));
    const metadata = decorators.slice(decorators.lastIndexOf('@metadata('));
    expect(metadata).toMatch(/type: 'generate'/);
    expect(Number(/length: (\d+)/.exec(metadata)?.[1])).toBeGreaterThanOrEqual(MIN_SIGNING_KEY_LENGTH);
    expect(moduleParams(MAIN, 'keyVault').params.get('signingKey')).toBe('signingKey');
    // The function app module has no way to receive the key itself.
    expect([...params(FUNCTION_APP_BICEP).values()].filter((p) => p.secure)).toEqual([]);
  });

  it('a @secure() parameter only ever becomes a Key Vault secret value or a @secure() module parameter', () => {
    expect(secureParamLeaks(files)).toEqual([]);
    // The one secret resource stores the key.
    const secret = balancedBlock(KEY_VAULT, KEY_VAULT.indexOf('resource signingKeySecret '));
    expect(KEY_VAULT).toMatch(/resource signingKeySecret 'Microsoft\.KeyVault\/vaults\/secrets@[\d-]+'/);
    expect(secret).toMatch(/\n\s+value: signingKey\n/);
  });

  it('the executors read the key by a Key Vault reference, resolved with their user-assigned identity', () => {
    const setting = bicepAppSettings().get('STRATUS_SIGNING_KEY')!;
    expect(keyVaultReferenceExpr(setting)).toBe('signingKeySecretUri');
    expect(params(FUNCTION_APP_BICEP).get('signingKeySecretUri')).toMatchObject({
      secure: false,
      defaultExpr: "''",
    });
    expect(FUNCTION_APP_BICEP).toMatch(/var signingSettings = empty\(signingKeySecretUri\) \? \{\} :/);
    // Key Vault references use the system-assigned identity unless keyVaultReferenceIdentity names another.
    expect(FUNCTION_APP_BICEP).toMatch(/\n\s+keyVaultReferenceIdentity: identityResourceId\n/);
    // And the app starts only once the vault, its secret and the role exist.
    expect(balancedBlock(MAIN, MAIN.indexOf('module functionApp '))).toMatch(
      /dependsOn: \[\s*executorRoles\s*keyVault\s*\]/,
    );
  });

  it('the vault is RBAC-authorised and grants Key Vault Secrets User to the executors and the deployer', () => {
    expect(KEY_VAULT).toMatch(/enableRbacAuthorization: true/);
    expect(KEY_VAULT).not.toMatch(/accessPolicies/);
    expect(KEY_VAULT).toContain("keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'");
    expect(KEY_VAULT).toMatch(/resource deployerSecretsUser '[^']+' = if \(!empty\(deployerPrincipalId\)\)/);
    for (const symbol of ['executorSecretsUser', 'deployerSecretsUser']) {
      const block = balancedBlock(KEY_VAULT, KEY_VAULT.indexOf(`resource ${symbol} `));
      expect(block, symbol).toMatch(/scope: vault/);
      expect(block, symbol).toMatch(
        /roleDefinitionId: subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', keyVaultSecretsUserRoleId\)/,
      );
    }
    const kv = moduleParams(MAIN, 'keyVault').params;
    expect(kv.get('executorPrincipalId')).toBe('identity.outputs.principalId');
    expect(kv.get('deployerPrincipalId')).toBe('principalId');
  });

  it('outputs the secret URI for the driver, and never the key', () => {
    const out = outputs(MAIN);
    expect(out.get('STRATUS_SIGNING_KEY_URI')?.expr).toBe(
      "enableSigning ? keyVault!.outputs.signingKeySecretUri : ''",
    );
    expect(AZURE_ENV.signingKeyUri).toBe('STRATUS_SIGNING_KEY_URI');
    expect(outputs(KEY_VAULT).get('signingKeySecretUri')?.expr).toBe('signingKeySecret.properties.secretUri');
    for (const { file, text } of ALL_BICEP) {
      for (const [name, o] of outputs(text))
        expect(o.expr, `${file}: output ${name}`).not.toMatch(/signingKey\b/);
    }
  });

  describe('the checks fail a template that would keep the key in plain text', () => {
    const kvModule = files.get('modules/key-vault.bicep')!;
    it('a @secure() parameter passed straight into app settings', () => {
      const leaky = FUNCTION_APP_BICEP.replace(
        "param signingKeySecretUri string = ''",
        "@secure()\nparam signingKey string\nparam signingKeySecretUri string = ''",
      ).replace(
        /var signingSettings = .*/,
        'var signingSettings = empty(signingKey) ? {} : { STRATUS_SIGNING_KEY: signingKey }',
      );
      expect(secureParamLeaks(new Map([['modules/function-app.bicep', leaky]])).map((l) => l.line)).toEqual([
        'var signingSettings = empty(signingKey) ? {} : { STRATUS_SIGNING_KEY: signingKey }',
      ]);
      expect(plainSecretSettings(new Map([['STRATUS_SIGNING_KEY', 'signingKey']]), leaky)).toEqual([
        'STRATUS_SIGNING_KEY = signingKey',
      ]);
    });

    it('a literal key, or a reference built from a @secure() parameter', () => {
      expect(
        plainSecretSettings(
          new Map([['STRATUS_SIGNING_KEY', "'0123456789abcdef0123456789abcdef'"]]),
          FUNCTION_APP_BICEP,
        ),
      ).toHaveLength(1);
      const secureUri = FUNCTION_APP_BICEP.replace(
        "param signingKeySecretUri string = ''",
        "@secure()\nparam signingKeySecretUri string = ''",
      );
      expect(plainSecretSettings(bicepAppSettings(), secureUri)).toEqual([
        `STRATUS_SIGNING_KEY = ${bicepAppSettings().get('STRATUS_SIGNING_KEY')}`,
      ]);
    });

    it('the key in an output, or passed to a module parameter that is not @secure()', () => {
      const withOutput = `${MAIN}\noutput STRATUS_SIGNING_KEY string = signingKey\n`;
      expect(secureParamLeaks(new Map([...files, ['main.bicep', withOutput]])).map((l) => l.line)).toEqual([
        'output STRATUS_SIGNING_KEY string = signingKey',
      ]);
      const notSecure = kvModule.replace('@secure()\n', '');
      expect(secureParamLeaks(new Map([...files, ['modules/key-vault.bicep', notSecure]]))).toEqual([
        {
          file: 'main.bicep',
          line: 'signingKey: signingKey',
          why: 'module parameter signingKey is not @secure()',
        },
      ]);
    });
  });
});
