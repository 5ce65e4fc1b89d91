// The stratus storage account: the trust boundary of a deployment. Shared-key access is off, so
// every client (executors, the driver, the deployment itself) authenticates with Microsoft Entra
// ID and is authorised by the data roles in storage-roles.bicep.
//
// Contents: the task queue and its poison queue (the Functions host moves a message there after
// maxDequeueCount failures), the three stratus containers, the Flex Consumption deployment
// container, and a lifecycle rule that deletes per-application temporary data after N days.

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account.')
param tags object = {}

@description('Queue the executor function is triggered by (contract/names.ts DEFAULT_TASK_QUEUE).')
param taskQueueName string = 'stratus-tasks'

@description('Blob container holding the function app package that Flex Consumption runs from.')
param deploymentContainerName string

@description('Days after which blobs under stratus-data/apps/ are deleted (crashed drivers leave them behind).')
@minValue(1)
param tempDataRetentionDays int = 7

@description('Storage redundancy.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param skuName string = 'Standard_LRS'

// contract/names.ts: CODE_CONTAINER, DATA_CONTAINER, LOGS_CONTAINER.
var stratusContainers = [
  'stratus-code'
  'stratus-data'
  'stratus-logs'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in stratusContainers: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

// The queue listener never creates its trigger queue, so the deployment does.
resource taskQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: taskQueueName
}

// contract/names.ts poisonQueueName(queue): `<queue>-poison`.
resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${taskQueueName}-poison'
}

// A driver deletes its application's prefix when it ends, and drivers and `stratus clean` sweep
// what a crashed one left an hour after its lease expired; this catches whatever is left after that.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-stale-application-data'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
                'appendBlob'
              ]
              prefixMatch: [
                'stratus-data/apps/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: tempDataRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    containers
  ]
}

@description('The storage account name (STRATUS_ACCOUNT for the driver).')
output accountName string = account.name

@description('The storage account resource id, the scope of the data role assignments.')
output accountId string = account.id

@description('Blob service endpoint, ending with a slash.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Queue service endpoint, ending with a slash.')
output queueEndpoint string = account.properties.primaryEndpoints.queue

@description('The task queue name.')
output taskQueueName string = taskQueue.name

@description('The poison queue name.')
output poisonQueueName string = poisonQueue.name

@description('The deployment container name.')
output deploymentContainerName string = deploymentContainer.name
