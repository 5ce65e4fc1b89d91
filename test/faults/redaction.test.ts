/** Secrets never reach logs or errors: account keys, SAS signatures and the signing key are redacted. */
import { describe, expect, it } from 'vitest';
import { StratusError } from '../../contract/errors.js';
import {
  redactDeep,
  redactError,
  redactSecrets,
  registerConnectionString,
  registerSecret,
} from '../../contract/redaction.js';

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
    expect(redacted).toContain('&se=2030');
    // A labelled key ends at whitespace: the following lines survive.
    expect(redacted.split('\n')).toHaveLength(4);
  });

  it('removes the secrets of a connection string it was given wherever they appear, unlabelled too', () => {
    const key = 'dW5sYWJlbGxlZC1hY2NvdW50LWtleS0wMTIzNDU2Nzg5Kys/Lw==';
    registerConnectionString(`AccountName=x;AccountKey=${key};BlobEndpoint=http://127.0.0.1:1/x`);
    registerSecret('a-signing-key-given-as-an-option-0123456789');
    const text = `bad record "${key},2" in ${encodeURIComponent(key)}; signed with a-signing-key-given-as-an-option-0123456789`;
    expect(redactSecrets(text)).toBe('bad record "***,2" in ***; signed with ***');
  });

  it('reads the secrets of the variables that carry them', () => {
    const previous = process.env.STRATUS_SIGNING_KEY;
    process.env.STRATUS_SIGNING_KEY = 'env-signing-key=with-equals-0123456789';
    try {
      expect(redactSecrets('key env-signing-key=with-equals-0123456789 end')).toBe('key *** end');
    } finally {
      if (previous === undefined) delete process.env.STRATUS_SIGNING_KEY;
      else process.env.STRATUS_SIGNING_KEY = previous;
    }
  });

  it('redacts every string of a JSON value, keys included, keeps it valid and copies only what changed', () => {
    const clean = { type: 'task-end', metrics: { durationMs: 3 }, tags: ['a', 'b'] };
    expect(redactDeep(clean)).toBe(clean);
    const event = {
      type: 'job-end',
      error: { message: 'cannot reach AccountKey=c2VjcmV0LWtleS0xMjM0NQ==;x' },
      accumulators: { 'badRecords:https://a/b.csv?sig=abc123secret': 2 },
      other: { kept: true },
    };
    const redacted = redactDeep(event);
    expect(redacted).toEqual({
      type: 'job-end',
      error: { message: 'cannot reach AccountKey=***;x' },
      accumulators: { 'badRecords:https://a/b.csv?sig=***': 2 },
      other: { kept: true },
    });
    expect(redacted.other).toBe(event.other);
    expect(event.error.message).toContain('c2VjcmV0'); // the input is not modified
    // Labelled secrets inside JSON text end at the quote: the text stays JSON.
    const json = JSON.stringify({ m: 'AccountKey=c2VjcmV0"quoted', n: 1 });
    expect(JSON.parse(redactSecrets(json))).toEqual({ m: 'AccountKey=***"quoted', n: 1 });
  });

  it('redacts an error in place: message, stack, context and the whole cause chain', () => {
    const root = new Error('root AccountKey=c2VjcmV0LWtleS0xMjM0NQ==');
    const middle = new StratusError(
      'X',
      'middle sig=abcDEF123',
      { userStack: 'at STRATUS_SIGNING_KEY=k0123456789' },
      {
        cause: root,
      },
    );
    const top = new Error('top', { cause: middle });
    expect(redactError(top)).toBe(top);
    const all = JSON.stringify([
      top.stack,
      middle.message,
      middle.stack,
      middle.context,
      root.message,
      root.stack,
    ]);
    expect(all).not.toMatch(/c2VjcmV0|abcDEF123|k0123456789/);
    expect(root.message).toBe('root AccountKey=***');
  });
});
