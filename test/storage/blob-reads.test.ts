/**
 * Reading a whole blob is one request: no properties request first to learn its size (the SDK's
 * downloadToBuffer makes one when no length is given), so a stage descriptor, a map-output table
 * or a result costs one round trip. Counted at the pass-through proxy in front of the suite's
 * Azurite; the bytes read back are compared with the bytes written.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../contract/names.js';
import { BlobNotFoundError, BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { RequestCounter } from '../../storage/testing/request-counter.js';
import { suiteConnectionString } from '../helpers/fabric.js';

let counter: RequestCounter;
let blobs: BlobStore;
const prefix = `blob-reads-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  counter = await RequestCounter.startFor(suiteConnectionString());
  blobs = new BlobStore(connectStorage({ connectionString: counter.connectionString }));
  await blobs.ensureContainers([DATA_CONTAINER]);
});
afterAll(async () => {
  await new BlobStore(connectStorage({ connectionString: suiteConnectionString() })).deletePrefix(
    DATA_CONTAINER,
    `${prefix}/`,
  );
  await counter.stop();
});

describe('whole-blob reads', () => {
  it.each([
    ['empty', 0],
    ['small', 3_000],
    ['larger than one 4 MiB download block', 5 * 1024 * 1024 + 17],
  ])('a %s blob is read back exactly, in one request', async (label, size) => {
    const bytes = randomBytes(size);
    const name = `${prefix}/${label.replace(/\W+/g, '-')}`;
    await blobs.put(DATA_CONTAINER, name, bytes);
    counter.reset();
    const read = await blobs.get(DATA_CONTAINER, name);
    expect(read.equals(bytes)).toBe(true);
    expect(counter.snapshot().byKind).toEqual({ 'blob:read:other': 1 });
  });

  it('a read to the end from an offset returns the tail, in one request', async () => {
    const bytes = randomBytes(10_000);
    const name = `${prefix}/tail`;
    await blobs.put(DATA_CONTAINER, name, bytes);
    counter.reset();
    expect((await blobs.getRange(DATA_CONTAINER, name, 6_000)).equals(bytes.subarray(6_000))).toBe(true);
    expect(counter.snapshot().total).toBe(1);
  });

  it('a missing blob is a BlobNotFoundError naming it', async () => {
    await expect(blobs.get(DATA_CONTAINER, `${prefix}/missing`)).rejects.toThrow(BlobNotFoundError);
    await expect(blobs.get(DATA_CONTAINER, `${prefix}/missing`)).rejects.toThrow(`${prefix}/missing`);
  });
});

describe('streamed range reads', () => {
  it('a range is yielded as it arrives, in several chunks, from one request, equal to the bytes written', async () => {
    const bytes = randomBytes(6 * 1024 * 1024 + 5);
    const name = `${prefix}/streamed`;
    await blobs.put(DATA_CONTAINER, name, bytes);
    counter.reset();
    const chunks: Buffer[] = [];
    for await (const chunk of blobs.streamRange(DATA_CONTAINER, name, 1_000, bytes.length - 2_000))
      chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(bytes.subarray(1_000, bytes.length - 1_000))).toBe(true);
    expect(counter.snapshot().total).toBe(1);
  });

  it('an empty range costs no request; a missing blob is a BlobNotFoundError naming it', async () => {
    counter.reset();
    const none: Buffer[] = [];
    for await (const chunk of blobs.streamRange(DATA_CONTAINER, `${prefix}/missing`, 0, 0)) none.push(chunk);
    expect(none).toEqual([]);
    expect(counter.snapshot().total).toBe(0);
    const read = async () => {
      for await (const _ of blobs.streamRange(DATA_CONTAINER, `${prefix}/missing`, 0, 10)) {
        // nothing arrives
      }
    };
    await expect(read()).rejects.toThrow(BlobNotFoundError);
    await expect(read()).rejects.toThrow(`${prefix}/missing`);
  });
});
