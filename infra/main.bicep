// stratus on Azure: the executor fabric an `azd up` (or `az deployment sub create`) provisions.
//
//   resource group rg-<env>
//   ├─ storage account     task queue + poison queue, stratus-code/-data/-logs, package container
//   ├─ managed identity    the executors' identity: blob data owner + queue data contributor
//   ├─ Flex Consumption    plan + executor function app (Node), slots and scale as parameters
//   ├─ Key Vault           the task-message signing key (unless enableSigning=false)
//   └─ App Insights        + Log Analytics workspace
//
// The deploying principal (principalId, set by azd) gets the same data roles, so the driver on a
// laptop submits jobs with DefaultAzureCredential. The outputs are named after the environment
// variables the driver reads: azd writes them to .azure/<env>/.env (`azd env get-values`).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of every resource; must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user or service principal, given the data roles the driver needs; empty to skip.')
param principalId string = ''

@description('Kind of principalId: User when deploying interactively, ServicePrincipal from CI.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Concurrent tasks per executor instance (Spark: cores per executor).')
@minValue(1)
@maxValue(64)
param slotsPerExecutor int = 4

// Flex Consumption accepts 40 to 1000: "The lowest maximum scale is currently 40. The highest
// currently supported value is 1000." (Microsoft Learn, "Azure Functions Flex Consumption plan
// hosting", Considerations > Scale: https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan)
@description('Maximum executor instances the platform may run at once.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each executor instance (MB); CPU is allocated in proportion.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// The executors' Node.js: the one LTS stratus supports everywhere (package.json engines, @types/node,
// the README, .ci/run's pinned Node; test/infra/node-version.test.ts keeps them equal). Node 22 is GA on
// Functions 4.x and is the default Node of the Flex Consumption stacks (the runtimes list behind
// `az functionapp list-flexconsumption-runtimes` / Get-AzFunctionAppFlexConsumptionRuntime: node 22,
// linuxFxVersion Node|22); Node 24 was still preview on Functions in the sources we found, so check that
// list before moving. Functions retires a language version at its community end of life ("Language
// runtime support policy", https://learn.microsoft.com/azure/azure-functions/language-support-policy):
// Node 20 ended on 2026-04-30, Node 22 is maintenance LTS until 2027-04-30
// (https://nodejs.org/en/about/previous-releases). Not a parameter: a deployment on another major would run
// code that was built and tested on this one.
var nodeVersion = '22'

@description('Queue the executor function is triggered by.')
param taskQueueName string = 'stratus-tasks'

@description('Days after which per-application blobs (stratus-data/apps/) are deleted.')
@minValue(1)
param tempDataRetentionDays int = 7

// Signing is on unless this says otherwise: without it, whoever may send to the task queue runs code
// under the executors' identity (DESIGN.md, Security). Turning it off is explicit and visible here, in
// the app settings (no STRATUS_SIGNING_KEY) and in `stratus doctor`.
@description('Executors refuse task messages not signed with the key in Key Vault; false = any message on the task queue runs.')
param enableSigning bool = true

// The key is generated, never typed: azd generates it once per environment (metadata below) and keeps it
// in the environment's config, so `azd provision` again keeps the same key; `az deployment` callers pass
// one (docs/deploy.md). No default on purpose: a default makes azd skip generation ("Setting a default
// value … skips the prompt flow", azd docs "Work with Azure Developer CLI metadata for Bicep input
// parameters"), and a newGuid() default — the only non-empty default the secure-parameter-default linter
// rule accepts — would rotate the key on every deployment, under running drivers. It only ever reaches
// the Key Vault secret (modules/key-vault.bicep): never an app setting, an output or the deployment history.
@secure()
@metadata({
  azd: {
    type: 'generate'
    config: {
      length: 64
      noSpecial: true
    }
  }
})
@description('HMAC key of task messages, at least 32 characters; stored only in Key Vault. Ignored (pass \'\') when enableSigning is false.')
param signingKey string

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'stratus'
}
var functionAppName = 'func-stratus-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-stratus-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'ststratus${resourceToken}'
    location: location
    tags: tags
    taskQueueName: taskQueueName
    deploymentContainerName: 'app-package-${resourceToken}'
    tempDataRetentionDays: tempDataRetentionDays
  }
}

module executorRoles 'modules/storage-roles.bicep' = {
  name: 'executor-storage-roles'
  scope: rg
  params: {
    storageAccountName: storage.outputs.accountName
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
  }
}

module deployerRoles 'modules/storage-roles.bicep' = if (!empty(principalId)) {
  name: 'deployer-storage-roles'
  scope: rg
  params: {
    storageAccountName: storage.outputs.accountName
    principalId: principalId
    principalType: principalType
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    workspaceName: 'log-stratus-${resourceToken}'
    appInsightsName: 'appi-stratus-${resourceToken}'
    location: location
    tags: tags
    publisherPrincipalId: identity.outputs.principalId
  }
}

module keyVault 'modules/key-vault.bicep' = if (enableSigning) {
  name: 'key-vault'
  scope: rg
  params: {
    name: 'kv-stratus-${resourceToken}'
    location: location
    tags: tags
    signingKey: signingKey
    executorPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-stratus-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'executor'
    storageAccountName: storage.outputs.accountName
    deploymentContainerName: storage.outputs.deploymentContainerName
    taskQueueName: storage.outputs.taskQueueName
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    appInsightsConnectionString: monitoring.outputs.connectionString
    slotsPerExecutor: slotsPerExecutor
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    nodeVersion: nodeVersion
    // A Key Vault reference, never the key: the platform resolves it with the executors' identity.
    signingKeySecretUri: enableSigning ? keyVault!.outputs.signingKeySecretUri : ''
  }
  // The host connects to storage as soon as the app starts, and resolves the Key Vault reference: the
  // roles (storage data roles; Key Vault Secrets User, in the key-vault module) must exist first.
  dependsOn: [
    executorRoles
    keyVault
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name

@description('Storage account the driver connects to (driver: --account / STRATUS_ACCOUNT).')
output STRATUS_ACCOUNT string = storage.outputs.accountName

@description('Task queue (STRATUS_TASK_QUEUE).')
output STRATUS_TASK_QUEUE string = storage.outputs.taskQueueName

@description('Blob endpoint of the account.')
output STRATUS_BLOB_ENDPOINT string = storage.outputs.blobEndpoint

@description('Queue endpoint of the account.')
output STRATUS_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint

@description('The executor function app.')
output STRATUS_FUNCTION_APP string = functionApp.outputs.name

@description('Slots per executor instance.')
output STRATUS_SLOTS_PER_EXECUTOR int = slotsPerExecutor

@description('Maximum executor instances.')
output STRATUS_MAX_INSTANCES int = maximumInstanceCount

@description('Memory of each executor instance in MB: the run summary prices executor time at it (STRATUS_INSTANCE_MEMORY_MB).')
output STRATUS_INSTANCE_MEMORY_MB int = instanceMemoryMB

@description('Versionless Key Vault URI of the signing key, which the driver reads with its identity (STRATUS_SIGNING_KEY_URI); empty when enableSigning is false.')
output STRATUS_SIGNING_KEY_URI string = enableSigning ? keyVault!.outputs.signingKeySecretUri : ''

@description('Key Vault holding the signing key (empty when enableSigning is false).')
output STRATUS_KEY_VAULT string = enableSigning ? keyVault!.outputs.name : ''

@description('Default parallelism of a job: slots per executor × maximum instances (STRATUS_TOTAL_SLOTS).')
output STRATUS_TOTAL_SLOTS int = functionApp.outputs.totalSlots
