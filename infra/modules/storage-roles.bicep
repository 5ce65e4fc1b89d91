// Data-plane roles on the stratus storage account for one principal: the executor function's
// managed identity (the Functions host's queue listener, blob and queue I/O of tasks, the
// Flex Consumption package download) or the deploying user (the driver submits jobs with
// DefaultAzureCredential). Control-plane roles are not needed by either.

@description('Name of the storage account (in this resource group).')
param storageAccountName string

@description('Object id of the principal receiving the roles.')
param principalId string

@description('Kind of principal: a managed identity is a ServicePrincipal.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string

// Azure built-in role definition ids (docs: "Azure built-in roles for Storage").
// Storage Blob Data Owner: the Functions host requires it on AzureWebJobsStorage.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Storage Queue Data Contributor: receive/delete task messages, write poison and events queues.
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'

var roleIds = [
  storageBlobDataOwnerRoleId
  storageQueueDataContributorRoleId
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource dataRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in roleIds: {
    // Deterministic name, so a redeployment finds the assignment instead of failing on a duplicate.
    name: guid(account.id, principalId, roleId)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: principalType
    }
  }
]
