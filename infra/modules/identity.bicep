// The executor function app's user-assigned managed identity. It exists before the app, so its
// role assignments can be in place when the Functions host first connects to storage.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the identity.')
param tags object = {}

resource executorIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id, for the app identity block and the deployment container authentication.')
output resourceId string = executorIdentity.id

@description('Client (application) id, for AzureWebJobsStorage__clientId.')
output clientId string = executorIdentity.properties.clientId

@description('Object (principal) id, for role assignments.')
output principalId string = executorIdentity.properties.principalId
