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
import { AZURE_ENV } from '../../driver/fabric/azure.js';
import { STORAGE_CONNECTION_SETTING } from '../../executor-function/storage-binding.js';
import { PACKAGE_ROOT } from '../helpers/dist.js';
import { bicepAppSettings, FUNCTION_APP_BICEP } from './app-settings.js';
import {
  balancedBlock,
  INFRA_DIR,
  moduleParams,
  params,
  readBicep,
  resources,
  stringLiteral,
} from './bicep-text.js';

const MAIN = readBicep('main.bicep');
const STORAGE = readBicep('modules/storage.bicep');
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

  it('the signing key reaches app settings only from a @secure parameter, and only when given', () => {
    expect(params(FUNCTION_APP_BICEP).get('signingKey')?.secure).toBe(true);
    expect(params(MAIN).get('signingKey')?.secure).toBe(true);
    expect(appSettings.get('STRATUS_SIGNING_KEY')).toBe('signingKey');
    expect(FUNCTION_APP_BICEP).toMatch(/var signingSettings = empty\(signingKey\) \? \{\} :/);
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
      /dependsOn: \[\s*executorRoles\s*\]/,
    );
  });

  it('keeps account keys and connection strings out of app settings and the template', () => {
    for (const { file, text } of ALL_BICEP) {
      expect(text, file).not.toMatch(
        /listKeys|listConnectionStrings|AccountKey=|DefaultEndpointsProtocol|primaryKey/i,
      );
    }
    // A setting whose name says it holds a secret may only take a @secure parameter's value.
    const secureParams = [...params(FUNCTION_APP_BICEP).values()].filter((p) => p.secure).map((p) => p.name);
    for (const [name, expr] of bicepAppSettings()) {
      if (/key|secret|password|sas|token/i.test(name)) expect(secureParams, name).toContain(expr);
    }
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
