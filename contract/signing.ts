/**
 * Task-message signing: with a signing key configured (`STRATUS_SIGNING_KEY`, the same on the
 * driver and the function app), the driver signs every task message — ids, the bundle hash, the
 * stage descriptor's name and its sha256 included — with HMAC-SHA256, and executors refuse to
 * load any code for a message whose signature does not verify. What the message names is
 * pinned by hash: the bundle is content-addressed (its sha256 is its name), the stage
 * descriptor's sha256 is in the signed message, and the descriptor carries the sha256 of every
 * blob the driver wrote for the stage (broadcast values, map-output tables). So one signature
 * covers everything that decides what runs, and executors check each hash before use.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from './errors.js';

/** Hex sha256 of a blob's bytes (a string is hashed as its UTF-8 bytes): how blobs are pinned. */
export function blobDigest(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Minimum length of a signing key (characters); a short key is a configuration error. */
export const MIN_SIGNING_KEY_LENGTH = 32;

/** JSON with object keys sorted at every level, so both sides hash the same bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The signing key from the environment, or undefined when signing is off; throws when too short,
 * or when it is a Key Vault reference the platform left unresolved. App Service leaves the
 * `@Microsoft.KeyVault(…)` text in place when the app's identity cannot read the secret ("Use Key
 * Vault references as app settings": the reference is shown as unresolved); taking that text as the
 * key would refuse every task as tampered, so an executor fails the message loudly instead, before
 * any code is loaded.
 */
export function signingKeyFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = env.STRATUS_SIGNING_KEY;
  if (key === undefined || key === '') return undefined;
  if (/^@Microsoft\.KeyVault\(/i.test(key.trim())) {
    throw new ConfigError(
      'STRATUS_SIGNING_KEY is an unresolved Key Vault reference: the app identity cannot read the secret ' +
        '(it needs Key Vault Secrets User on the vault, and keyVaultReferenceIdentity must name it)',
    );
  }
  if (key.length < MIN_SIGNING_KEY_LENGTH) {
    throw new ConfigError(`STRATUS_SIGNING_KEY must be at least ${MIN_SIGNING_KEY_LENGTH} characters`);
  }
  return key;
}

/** The HMAC-SHA256 (hex) of a task message without its `signature` field. */
export function signTaskMessage(message: object, key: string): string {
  const { signature: _ignored, ...unsigned } = message as { signature?: unknown };
  return createHmac('sha256', key).update(canonicalJson(unsigned)).digest('hex');
}

/** Why a message fails verification, or undefined when its signature is valid. */
export function verifyTaskMessage(message: object, key: string): 'unsigned' | 'bad-signature' | undefined {
  const signature = (message as { signature?: unknown }).signature;
  if (typeof signature !== 'string' || signature === '') return 'unsigned';
  const expected = Buffer.from(signTaskMessage(message, key), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad-signature';
  return undefined;
}
