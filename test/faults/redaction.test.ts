/** Secrets never reach logs or errors: account keys, SAS signatures and the signing key are redacted. */
import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../storage/connection.js';

describe('redaction', () => {
  it('removes account keys, SAS signatures and the signing key, keeping the rest readable', () => {
    const text = [
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0LWtleS0xMjM0NQ==;EndpointSuffix=core.windows.net',
      'BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=2024&sig=abcDEF%2Bsecret',
      'https://acct.blob.core.windows.net/c/b?sv=2024&sig=abcDEF%2Bsecret&se=2030',
      'STRATUS_SIGNING_KEY=super-secret-signing-key-0123456789',
    ].join('\n');
    const redacted = redactSecrets(text);
    for (const secret of [
      'c2VjcmV0LWtleS0xMjM0NQ==',
      'abcDEF%2Bsecret',
      'super-secret-signing-key-0123456789',
    ]) {
      expect(redacted).not.toContain(secret);
    }
    expect(redacted).toContain('AccountName=acct');
    expect(redacted).toContain('https://acct.blob.core.windows.net');
  });
});
