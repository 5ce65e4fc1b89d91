/**
 * Where the driver's task-message signing key comes from. In order: the `signingKey` option, the
 * `STRATUS_SIGNING_KEY` variable, and — for a deployment reached by account name — the Key Vault
 * secret the deployment names in `STRATUS_SIGNING_KEY_URI` (a main.bicep output), read with the
 * same Entra identity the driver reaches storage with (the template grants it Key Vault Secrets
 * User). The executors read the same secret through a Key Vault reference app setting, so both
 * sides sign and verify with one key that no file, app setting or deployment output holds.
 */
import type { TokenCredential } from '@azure/core-auth';
import { ConfigError, StratusError } from '../../contract/errors.js';
import { registerSecret } from '../../contract/redaction.js';
import { MIN_SIGNING_KEY_LENGTH, signingKeyFromEnv } from '../../contract/signing.js';
import { AZURE_ENV } from './azure.js';

/** Where the key in use came from; `none` means task messages go unsigned. */
export type SigningKeySource = 'option' | 'environment' | 'key-vault' | 'none';

/** The signing key a driver signs with, and where it came from. */
export interface ResolvedSigningKey {
  key: string | undefined;
  source: SigningKeySource;
  /** The Key Vault secret URI, when the key was (or was to be) read from Key Vault. */
  secretUri?: string;
}

/** Reads a secret's current value by its Key Vault URI; injected in tests (no Key Vault here). */
export type SecretReader = (secretUri: string, credential: TokenCredential) => Promise<string>;

/**
 * The Key Vault secret could not be read: not retryable as such (a missing role or a wrong URI
 * does not fix itself; the SDK has already retried transient failures).
 */
export class SigningKeyUnavailableError extends StratusError {
  constructor(secretUri: string, cause: unknown) {
    const e = cause as { statusCode?: number; message?: string };
    const hint =
      e.statusCode === 403
        ? ': your identity needs Key Vault Secrets User on the vault (main.bicep grants it to principalId)'
        : '';
    super(
      'SIGNING_KEY_UNAVAILABLE',
      `cannot read the signing key from Key Vault (${secretUri}): ${e.statusCode ? `HTTP ${e.statusCode} ` : ''}${(e.message ?? String(cause)).split('\n')[0]}${hint}`,
      {},
      { cause },
    );
    this.name = 'SigningKeyUnavailableError';
  }
}

/** The SDK reader: the secret's latest version unless the URI names one. */
export const keyVaultSecretReader: SecretReader = async (secretUri, credential) => {
  // Loaded here, by the one run that reads the key from Key Vault, not by every command.
  const { parseKeyVaultSecretIdentifier, SecretClient } = await import('@azure/keyvault-secrets');
  const id = parseKeyVaultSecretIdentifier(secretUri);
  const client = new SecretClient(id.vaultUrl, credential);
  const secret = await client.getSecret(id.name, id.version ? { version: id.version } : {});
  if (secret.value === undefined) throw new Error('the secret has no value');
  return secret.value;
};

/** What `resolveSigningKey` decides from. */
export interface SigningKeyOptions {
  /** DriverOptions.signingKey. */
  explicit?: string | undefined;
  /** The environment; default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Credential of a deployment reached by account name; without one Key Vault is not consulted. */
  credential?: TokenCredential | undefined;
  /** How to read the secret; default the Key Vault SDK. */
  readSecret?: SecretReader | undefined;
}

/**
 * The key to sign with (registered for redaction before it is returned). Throws ConfigError for a
 * key shorter than MIN_SIGNING_KEY_LENGTH and SigningKeyUnavailableError when the deployment names a
 * Key Vault secret the identity cannot read: a driver that silently sent unsigned messages would
 * only see every task refused by the executors.
 */
export async function resolveSigningKey(options: SigningKeyOptions = {}): Promise<ResolvedSigningKey> {
  const env = options.env ?? process.env;
  if (options.explicit !== undefined && options.explicit !== '') {
    if (options.explicit.length < MIN_SIGNING_KEY_LENGTH)
      throw new ConfigError(`signingKey must be at least ${MIN_SIGNING_KEY_LENGTH} characters`);
    registerSecret(options.explicit);
    return { key: options.explicit, source: 'option' };
  }
  const fromEnv = signingKeyFromEnv(env);
  if (fromEnv !== undefined) {
    registerSecret(fromEnv);
    return { key: fromEnv, source: 'environment' };
  }
  const secretUri = env[AZURE_ENV.signingKeyUri]?.trim();
  if (!secretUri || options.credential === undefined) return { key: undefined, source: 'none' };
  let key: string;
  try {
    key = await (options.readSecret ?? keyVaultSecretReader)(secretUri, options.credential);
  } catch (error) {
    throw new SigningKeyUnavailableError(secretUri, error);
  }
  registerSecret(key);
  if (key.length < MIN_SIGNING_KEY_LENGTH) {
    throw new ConfigError(
      `the signing key in Key Vault (${secretUri}) is shorter than ${MIN_SIGNING_KEY_LENGTH} characters`,
    );
  }
  return { key, source: 'key-vault', secretUri };
}
