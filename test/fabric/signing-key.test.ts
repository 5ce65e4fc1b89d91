/**
 * Where the driver's signing key comes from (driver/fabric/signing-key.ts): the option, then
 * STRATUS_SIGNING_KEY, then — for a deployment reached with an Entra credential — the Key Vault
 * secret STRATUS_SIGNING_KEY_URI names. No Key Vault is reachable here, so the secret reader is
 * injected; what it is asked for and what is done with its answer is what these tests pin.
 */
import type { TokenCredential } from '@azure/core-auth';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../contract/errors.js';
import { redactSecrets } from '../../contract/redaction.js';
import { signingKeyFromEnv } from '../../contract/signing.js';
import {
  resolveSigningKey,
  type SecretReader,
  SigningKeyUnavailableError,
} from '../../driver/fabric/signing-key.js';

const URI = 'https://kv-stratus-abc.vault.azure.net/secrets/stratus-signing-key';
const credential: TokenCredential = { getToken: async () => null };
const vaultKey = 'k'.repeat(40) + Math.random().toString(36).slice(2);

/** A reader that records what it was asked and answers `value` (or throws it, when an Error). */
function reader(value: string | Error): SecretReader & { asked: string[] } {
  const asked: string[] = [];
  const read = async (uri: string, given: TokenCredential) => {
    asked.push(uri);
    expect(given).toBe(credential);
    if (value instanceof Error) throw value;
    return value;
  };
  return Object.assign(read, { asked });
}

describe('the driver signing key', () => {
  it('an explicit key wins over the environment and Key Vault, which is not read', async () => {
    const read = reader(vaultKey);
    const key = 'o'.repeat(32);
    const resolved = await resolveSigningKey({
      explicit: key,
      env: { STRATUS_SIGNING_KEY: 'e'.repeat(32), STRATUS_SIGNING_KEY_URI: URI },
      credential,
      readSecret: read,
    });
    expect(resolved).toEqual({ key, source: 'option' });
    expect(read.asked).toEqual([]);
  });

  it('STRATUS_SIGNING_KEY wins over Key Vault', async () => {
    const read = reader(vaultKey);
    const resolved = await resolveSigningKey({
      env: { STRATUS_SIGNING_KEY: 'e'.repeat(32), STRATUS_SIGNING_KEY_URI: URI },
      credential,
      readSecret: read,
    });
    expect(resolved.source).toBe('environment');
    expect(read.asked).toEqual([]);
  });

  it("a deployment's key is read from the Key Vault secret its outputs name, and redacted from then on", async () => {
    const read = reader(vaultKey);
    const resolved = await resolveSigningKey({
      env: { STRATUS_SIGNING_KEY_URI: URI },
      credential,
      readSecret: read,
    });
    expect(resolved).toEqual({ key: vaultKey, source: 'key-vault', secretUri: URI });
    expect(read.asked).toEqual([URI]);
    expect(redactSecrets(`signing with ${vaultKey}`)).not.toContain(vaultKey);
  });

  it('no key, no URI, or no Entra credential (a connection string, Azurite): unsigned', async () => {
    const read = reader(vaultKey);
    expect(await resolveSigningKey({ env: {}, credential, readSecret: read })).toEqual({
      key: undefined,
      source: 'none',
    });
    expect(await resolveSigningKey({ env: { STRATUS_SIGNING_KEY_URI: URI }, readSecret: read })).toEqual({
      key: undefined,
      source: 'none',
    });
    expect(read.asked).toEqual([]);
  });

  it('a Key Vault secret the identity cannot read fails the connect, naming the role it needs', async () => {
    const denied = Object.assign(new Error('Caller is not authorized to perform action on resource.'), {
      statusCode: 403,
    });
    const error = await resolveSigningKey({
      env: { STRATUS_SIGNING_KEY_URI: URI },
      credential,
      readSecret: reader(denied),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigningKeyUnavailableError);
    expect((error as SigningKeyUnavailableError).code).toBe('SIGNING_KEY_UNAVAILABLE');
    expect((error as Error).message).toContain(URI);
    expect((error as Error).message).toMatch(/HTTP 403 .*Key Vault Secrets User/);
  });

  it('a key shorter than 32 characters is a configuration error, wherever it comes from', async () => {
    await expect(resolveSigningKey({ explicit: 'short' })).rejects.toBeInstanceOf(ConfigError);
    await expect(
      resolveSigningKey({
        env: { STRATUS_SIGNING_KEY_URI: URI },
        credential,
        readSecret: reader('s'.repeat(20)),
      }),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it('an unresolved Key Vault reference is refused as a key, on the driver and the executors alike', async () => {
    const reference = `@Microsoft.KeyVault(SecretUri=${URI})`;
    expect(() => signingKeyFromEnv({ STRATUS_SIGNING_KEY: reference })).toThrow(ConfigError);
    expect(() => signingKeyFromEnv({ STRATUS_SIGNING_KEY: reference })).toThrow(
      /unresolved Key Vault reference/,
    );
    await expect(resolveSigningKey({ env: { STRATUS_SIGNING_KEY: reference } })).rejects.toBeInstanceOf(
      ConfigError,
    );
  });
});
