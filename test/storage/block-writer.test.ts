/**
 * BlockBlobWriter against Azurite: the bytes of a committed blob are exactly the bytes
 * written, in order, whatever the chunking; blocks left uncommitted are invisible to readers
 * and listing until a block list names them; committing one writer's blocks discards every
 * other writer's; and every id has the same length, as Azure requires of one blob.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../storage/blob-store.js';
import { BlockBlobWriter, blockId, blockIds, newBlockToken } from '../../storage/block-writer.js';
import { connectStorage } from '../../storage/connection.js';
import { suiteConnectionString } from '../helpers/fabric.js';

const CONTAINER = `block-writer-${process.pid}`;
let blobs: BlobStore;
let counter = 0;
const uniqueBlob = (what: string) => `${what}-${counter++}-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
  await blobs.ensureContainers([CONTAINER]);
});

afterAll(async () => {
  await blobs.deletePrefix(CONTAINER, '');
});

/** Write `chunks` through a writer of `blockBytes`-byte blocks. */
async function writeAll(name: string, chunks: readonly Buffer[], commit: boolean, blockBytes = 1000) {
  const writer = new BlockBlobWriter(blobs, CONTAINER, name, { commit, blockBytes });
  for (const chunk of chunks) await writer.write(chunk);
  return writer.finish();
}

const chunksArb = fc.array(fc.uint8Array({ minLength: 0, maxLength: 2500 }), { maxLength: 12 });

describe('BlockBlobWriter', () => {
  it('a committing writer makes the blob exactly the bytes written, in order, for any chunking and block size', async () => {
    await fc.assert(
      fc.asyncProperty(chunksArb, fc.integer({ min: 1, max: 3000 }), async (arrays, blockBytes) => {
        const chunks = arrays.map((a) => Buffer.from(a));
        const expected = Buffer.concat(chunks);
        const name = uniqueBlob('committed');
        const staged = await writeAll(name, chunks, true, blockBytes);
        expect(staged.bytes).toBe(expected.length);
        expect((await blobs.get(CONTAINER, name)).equals(expected)).toBe(true);
        if (expected.length < blockBytes) {
          // Less than one block: one Put Blob, no staged block.
          expect(staged.blockIds).toEqual([]);
        } else {
          const list = await blobs.blockList(CONTAINER, name);
          expect(list.committed).toEqual(staged.blockIds);
          expect(list.uncommitted).toEqual([]);
          // Every block but the last holds at least blockBytes.
          expect(staged.blockIds.length).toBeLessThanOrEqual(Math.ceil(expected.length / blockBytes));
        }
      }),
      { numRuns: 15 },
    );
  });

  it('uncommitted blocks are invisible to readers and listing until their block list is committed', async () => {
    const name = uniqueBlob('staged');
    const chunks = [randomBytes(1500), randomBytes(700), randomBytes(2300)];
    const staged = await writeAll(name, chunks, false);
    expect(staged.blockIds).toEqual(blockIds(staged.token, staged.blockIds.length));
    expect(staged.blockIds.length).toBeGreaterThan(1);

    expect(await blobs.exists(CONTAINER, name)).toBe(false);
    await expect(blobs.get(CONTAINER, name)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    expect((await blobs.list(CONTAINER, name)).map((b) => b.name)).toEqual([]);
    expect((await blobs.list(CONTAINER, name, { includeUncommitted: true })).map((b) => b.name)).toEqual([
      name,
    ]);
    // Uncommitted blocks come back in no particular order.
    const list = await blobs.blockList(CONTAINER, name);
    expect(list.committed).toEqual([]);
    expect([...list.uncommitted].sort()).toEqual([...staged.blockIds].sort());

    await blobs.commitBlocks(CONTAINER, name, staged.blockIds);
    expect((await blobs.get(CONTAINER, name)).equals(Buffer.concat(chunks))).toBe(true);
    expect((await blobs.list(CONTAINER, name)).map((b) => b.name)).toEqual([name]);
  });

  it("committing one writer's blocks makes the blob its bytes alone and discards the other writer's", async () => {
    const name = uniqueBlob('two-writers');
    const winner = [randomBytes(2100), randomBytes(10)];
    const loser = [randomBytes(3333)];
    const [a, b] = await Promise.all([writeAll(name, winner, false), writeAll(name, loser, false)]);
    expect(a.token).not.toBe(b.token);
    expect(new Set([...a.blockIds, ...b.blockIds]).size).toBe(a.blockIds.length + b.blockIds.length);

    await blobs.commitBlocks(CONTAINER, name, a.blockIds);
    expect((await blobs.get(CONTAINER, name)).equals(Buffer.concat(winner))).toBe(true);
    expect(await blobs.blockList(CONTAINER, name)).toEqual({ committed: a.blockIds, uncommitted: [] });
  });

  it('a committed block list replaces earlier content of the blob', async () => {
    const name = uniqueBlob('replace');
    await blobs.put(CONTAINER, name, 'old content that is longer than the new one\n');
    const staged = await writeAll(name, [Buffer.from('new\n')], false);
    // Staging does not touch the blob's committed content.
    expect((await blobs.get(CONTAINER, name)).toString()).toBe(
      'old content that is longer than the new one\n',
    );
    await blobs.commitBlocks(CONTAINER, name, staged.blockIds);
    expect((await blobs.get(CONTAINER, name)).toString()).toBe('new\n');
  });

  it('an empty output stages no block; committing it makes an empty blob', async () => {
    const uncommitted = uniqueBlob('empty-staged');
    const none = await writeAll(uncommitted, [Buffer.alloc(0)], false);
    expect(none).toMatchObject({ blockIds: [], bytes: 0 });
    expect(await blobs.exists(CONTAINER, uncommitted)).toBe(false);
    await blobs.commitBlocks(CONTAINER, uncommitted, none.blockIds);
    expect(await blobs.size(CONTAINER, uncommitted)).toBe(0);

    const committed = uniqueBlob('empty-committed');
    expect((await writeAll(committed, [], true)).blockIds).toEqual([]);
    expect(await blobs.size(CONTAINER, committed)).toBe(0);
  });

  it('block ids of every writer and index have one length and never repeat', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 49_999 }), { minLength: 1, maxLength: 20 }),
        (indexes) => {
          const tokens = [newBlockToken(), newBlockToken()];
          const ids = tokens.flatMap((t) => [...new Set(indexes)].map((i) => blockId(t, i)));
          expect(new Set(ids.map((id) => id.length)).size).toBe(1);
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
    );
  });
});
