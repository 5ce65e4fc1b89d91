// The task-message signing key's only home: a Key Vault with Azure RBAC authorisation (no access
// policies), holding one secret. The executors read it through a Key Vault reference app setting
// (function-app.bicep) with their user-assigned identity; the deploying principal reads it too, so the
// driver signs with the same key (driver/fabric/signing-key.ts). Both get Key Vault Secrets User — read
// secret values, nothing else ("Provide access to Key Vault keys, certificates, and secrets with Azure
// role-based access control", built-in role 4633458b-17de-408a-b874-0445c86b69e6).
//
// The key arrives as a @secure() parameter and is written only to the secret's value: it is in no app
// setting, no output and no deployment history ("@secure() … the value of the parameter isn't logged
// or stored in the deployment history", Bicep linter rule secure-parameter-default). The outputs are
// the vault's name and the secret's versionless URI, which are not secret.

@description('Key Vault name (3-24 characters, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the vault.')
param tags object = {}

@secure()
@description('The HMAC key executors require on task messages; stored as the secret value only.')
param signingKey string

@description('Object id of the executors\' user-assigned identity (Key Vault Secrets User).')
param executorPrincipalId string

@description('Object id of the deploying user or service principal, who runs the driver; empty to skip.')
param deployerPrincipalId string = ''

@description('Kind of deployerPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param deployerPrincipalType string = 'User'

@description('Name of the secret holding the signing key.')
param secretName string = 'stratus-signing-key'

// Key Vault Secrets User: read secret contents (Azure built-in roles, Security category).
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Azure RBAC, not access policies: who may read the key is a role assignment like every other grant.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    // Template deployments never read the secret back (no getSecret()): nothing else needs enabling.
    enabledForTemplateDeployment: false
    enabledForDeployment: false
    enabledForDiskEncryption: false
    publicNetworkAccess: 'Enabled'
  }
}

resource signingKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretName
  properties: {
    value: signingKey
    contentType: 'HMAC-SHA256 key of stratus task messages (STRATUS_SIGNING_KEY)'
  }
}

resource executorSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, executorPrincipalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: executorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

@description('Key Vault name.')
output name string = vault.name

@description('Versionless URI of the signing key secret: the app setting references it, the driver reads it.')
output signingKeySecretUri string = signingKeySecret.properties.secretUri
