/**
 * How the executor reads its `AzureWebJobsStorage` connection: a connection string, or the
 * identity-based settings the Bicep writes (`__accountName`, `__credential`, `__clientId`), with
 * the endpoints and credential class each choice leads to. No network: credentials are only built.
 */
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../contract/errors.js';
import {
  connectBinding,
  connectFromSetting,
  connectionStringFromSetting,
  createCredential,
  resolveStorageBinding,
} from '../../executor-function/storage-binding.js';
import { azuriteConnectionString } from '../../storage/connection.js';

const CLIENT_ID = '00000000-1111-2222-3333-444444444444';

describe('the storage binding of the executor function', () => {
  it('a connection string in AzureWebJobsStorage wins and is used as is', () => {
    const cs = azuriteConnectionString(10000, 10001);
    const binding = resolveStorageBinding({ AzureWebJobsStorage: cs, AzureWebJobsStorage__accountName: 'x' });
    expect(binding).toEqual({
      kind: 'connection-string',
      setting: 'AzureWebJobsStorage',
      connectionString: cs,
    });
    expect(connectionStringFromSetting({ AzureWebJobsStorage: cs })).toBe(cs);
  });

  it('accountName with a user-assigned identity: public endpoints and ManagedIdentityCredential with its client id', () => {
    const binding = resolveStorageBinding({
      AzureWebJobsStorage__accountName: 'ststratusabc123',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: CLIENT_ID,
    });
    expect(binding).toEqual({
      kind: 'identity',
      setting: 'AzureWebJobsStorage',
      accountName: 'ststratusabc123',
      blobServiceUri: 'https://ststratusabc123.blob.core.windows.net',
      queueServiceUri: 'https://ststratusabc123.queue.core.windows.net',
      credential: { kind: 'managed-identity', clientId: CLIENT_ID },
    });
    if (binding.kind !== 'identity') throw new Error('unreachable');
    expect(createCredential(binding.credential)).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('service URIs override the public endpoints (sovereign clouds), and the account comes from the host name', () => {
    const binding = resolveStorageBinding({
      AzureWebJobsStorage__blobServiceUri: 'https://acct1.blob.core.chinacloudapi.cn/',
      AzureWebJobsStorage__queueServiceUri: 'https://acct1.queue.core.chinacloudapi.cn',
      AzureWebJobsStorage__credential: 'ManagedIdentity',
    });
    expect(binding).toMatchObject({
      accountName: 'acct1',
      blobServiceUri: 'https://acct1.blob.core.chinacloudapi.cn',
      queueServiceUri: 'https://acct1.queue.core.chinacloudapi.cn',
      credential: { kind: 'managed-identity' },
    });
  });

  it('credential=managedidentity without a client id means the system-assigned identity', () => {
    const binding = resolveStorageBinding({
      AzureWebJobsStorage__accountName: 'acct1',
      AzureWebJobsStorage__credential: 'managedidentity',
    });
    if (binding.kind !== 'identity') throw new Error('expected an identity binding');
    expect(binding.credential).toEqual({ kind: 'managed-identity' });
    expect(createCredential(binding.credential)).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('a managed identity resource id selects that user-assigned identity', () => {
    const resourceId =
      '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-stratus';
    const binding = resolveStorageBinding({
      AzureWebJobsStorage__accountName: 'acct1',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__managedIdentityResourceId: resourceId,
    });
    expect(binding).toMatchObject({ credential: { kind: 'managed-identity', resourceId } });
  });

  it('without __credential the developer identity chain is used: DefaultAzureCredential', () => {
    const binding = resolveStorageBinding({ AzureWebJobsStorage__accountName: 'acct1' });
    if (binding.kind !== 'identity') throw new Error('expected an identity binding');
    expect(binding.credential).toEqual({ kind: 'default' });
    expect(createCredential(binding.credential)).toBeInstanceOf(DefaultAzureCredential);
  });

  it('the colon form of the setting names is accepted as well as the double underscore', () => {
    const binding = resolveStorageBinding({ 'AzureWebJobsStorage:accountName': 'acct1' });
    expect(binding).toMatchObject({ kind: 'identity', accountName: 'acct1' });
  });

  it('connectFromSetting builds clients on the chosen endpoints without contacting them', () => {
    const connection = connectFromSetting({
      AzureWebJobsStorage__accountName: 'acct2',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: CLIENT_ID,
    });
    // The SDK keeps or drops a trailing slash depending on the service; the host is what matters.
    const base = (url: string) => url.replace(/\/$/, '');
    expect(base(connection.blobService.url)).toBe('https://acct2.blob.core.windows.net');
    expect(base(connection.queueService.url)).toBe('https://acct2.queue.core.windows.net');
    expect(connection.description).toBe('account acct2 (identity-based)');
    const again = connectBinding(resolveStorageBinding({ AzureWebJobsStorage__accountName: 'acct2' }));
    expect(base(again.queueService.url)).toBe('https://acct2.queue.core.windows.net');
  });

  it.each([
    [{}, /AzureWebJobsStorage is not set/],
    [{ AzureWebJobsStorage: '  ' }, /AzureWebJobsStorage is not set/],
    [
      { AzureWebJobsStorage__accountName: 'Bad_Name' },
      /__accountName: "Bad_Name" is not a storage account name/,
    ],
    [
      { AzureWebJobsStorage__blobServiceUri: 'https://a.blob.core.windows.net' },
      /__queueServiceUri is not set/,
    ],
    [
      { AzureWebJobsStorage__blobServiceUri: 'nope', AzureWebJobsStorage__queueServiceUri: 'https://a.q' },
      /__blobServiceUri: "nope" is not a URL/,
    ],
    [
      { AzureWebJobsStorage__accountName: 'acct1', AzureWebJobsStorage__credential: 'clientsecret' },
      /__credential: "clientsecret" is not supported/,
    ],
    [
      {
        AzureWebJobsStorage__accountName: 'acct1',
        AzureWebJobsStorage__clientId: CLIENT_ID,
        AzureWebJobsStorage__managedIdentityResourceId: '/subscriptions/x',
      },
      /are exclusive/,
    ],
  ])('bad settings fail with a ConfigError naming the setting (%j)', (env, message) => {
    expect(() => resolveStorageBinding(env)).toThrow(ConfigError);
    expect(() => resolveStorageBinding(env)).toThrow(message);
  });

  it('asking an identity-based setting for a connection string says why there is none', () => {
    expect(() => connectionStringFromSetting({ AzureWebJobsStorage__accountName: 'acct1' })).toThrow(
      /identity-based/,
    );
  });
});
