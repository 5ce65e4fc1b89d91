// The executor function app on the Flex Consumption plan: Node, run from a package in a blob
// container, scaled by the platform up to maximumInstanceCount instances of instanceMemoryMB.
//
// Slots are one parameter. An instance runs `slotsPerExecutor` tasks at once because the app
// settings below override host.json's queue trigger (batchSize 1, newBatchThreshold slots-1;
// contract/queue-trigger-options.ts computes slots = batchSize + newBatchThreshold the same
// way), and the driver's default parallelism is slots × maximum instances (STRATUS_TOTAL_SLOTS).
//
// Storage is reached with the user-assigned identity (AzureWebJobsStorage__*): no account key or
// connection string appears in any setting, and the signing key is a Key Vault reference. test/infra/ checks all of this against the code.

@description('Function app name (globally unique host name).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to plan and app; the app also gets azd-service-name.')
param tags object = {}

@description('The azure.yaml service this app is the host of.')
param serviceName string = 'executor'

@description('Storage account of the deployment (AzureWebJobsStorage, task queue, containers).')
param storageAccountName string

@description('Blob container the app package is deployed to.')
param deploymentContainerName string

@description('Queue the executor function is triggered by.')
param taskQueueName string

@description('User-assigned identity resource id.')
param identityResourceId string

@description('User-assigned identity client id.')
param identityClientId string

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('Concurrent tasks per executor instance (Spark: cores per executor).')
@minValue(1)
@maxValue(64)
param slotsPerExecutor int

// Flex Consumption accepts 40 to 1000: "The lowest maximum scale is currently 40. The highest
// currently supported value is 1000." (Microsoft Learn, "Azure Functions Flex Consumption plan
// hosting", Considerations > Scale: https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan)
@description('Upper bound of executor instances the platform may run at once.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance in MB; CPU and network are allocated in proportion.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Node.js major version of the Functions runtime: the one stratus is built and tested on (main.bicep).')
@allowed([
  '22'
])
param nodeVersion string

@description('Versionless Key Vault URI of the signing key; empty = signing off (main.bicep enableSigning=false).')
param signingKeySecretUri string = ''

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    // Flex Consumption runs on Linux only.
    reserved: true
  }
}

// The Functions host's own connection, identity-based (docs: "Connecting to host storage with an identity").
var storageSettings = {
  AzureWebJobsStorage__accountName: account.name
  AzureWebJobsStorage__blobServiceUri: account.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: account.properties.primaryEndpoints.queue
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
}

// Slots: host.json `extensions.queues` overridden from app settings (AzureFunctionsJobHost__ path).
var slotSettings = {
  AzureFunctionsJobHost__extensions__queues__batchSize: '1'
  AzureFunctionsJobHost__extensions__queues__newBatchThreshold: string(slotsPerExecutor - 1)
  STRATUS_TOTAL_SLOTS: string(slotsPerExecutor * maximumInstanceCount)
}

var stratusSettings = {
  STRATUS_TASK_QUEUE: taskQueueName
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// STRATUS_SIGNING_KEY is a Key Vault reference, resolved by the platform with the user-assigned identity
// (keyVaultReferenceIdentity below); the code reads the resolved value like any setting ("Use Key Vault
// references as app settings in Azure App Service and Azure Functions",
// https://learn.microsoft.com/azure/app-service/app-service-key-vault-references). Versionless, so a new
// secret version reaches the executors (within a day, or at the next restart) without a redeployment.
var signingSettings = empty(signingKeySecretUri) ? {} : { STRATUS_SIGNING_KEY: '@Microsoft.KeyVault(SecretUri=${signingKeySecretUri})' }

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references use the system-assigned identity unless told otherwise; this app has only the
    // user-assigned one, which holds Key Vault Secrets User on the vault.
    keyVaultReferenceIdentity: identityResourceId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${account.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }

  resource appSettings 'config' = {
    name: 'appsettings'
    properties: union(storageSettings, slotSettings, stratusSettings, signingSettings)
  }
}

@description('Function app name.')
output name string = functionApp.name

@description('Default parallelism of a job: slots per executor × maximum instances.')
output totalSlots int = slotsPerExecutor * maximumInstanceCount
