/**
 * The split reader against Azurite: whatever the file and the split size, the records read
 * split by split are exactly the file's records, none lost, cut or read twice.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitLines } from '../../engine/records/text.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type BlobSplit, readPartitionSplits, readSplit } from '../../storage/split-reader.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { fileContentArb, uniqueName } from './arbitraries.js';

const CONTAINER = `split-reader-${process.pid}`;
let blobs: BlobStore;

beforeAll(async () => {
  blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
  await blobs.ensureContainers([CONTAINER]);
});

afterAll(async () => {
  await blobs.deletePrefix(CONTAINER, '');
});

async function bytesOf(split: BlobSplit, chunkBytes?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of readSplit(blobs, split, chunkBytes ? { chunkBytes } : {})) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Byte ranges of `size` cut every `splitSize` bytes. */
function ranges(size: number, splitSize: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += splitSize)
    out.push({ start, end: Math.min(size, start + splitSize) });
  return out;
}

async function upload(content: Buffer): Promise<string> {
  const blob = uniqueName('file');
  await blobs.put(CONTAINER, blob, content);
  return blob;
}

describe('readSplit', () => {
  it('for any file and any split size, the splits together read every record exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fileContentArb,
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(5, 64, undefined),
        async (text, splitCounts, chunkBytes) => {
          const content = Buffer.from(text, 'utf8');
          const blob = await upload(content); // once per case: Azurite serves ~300 requests/s
          for (const count of splitCounts) {
            const splitSize = Math.max(1, Math.ceil(content.length / count));
            const pieces: Buffer[] = [];
            let offset = 0;
            for (const r of ranges(content.length, splitSize)) {
              const bytes = await bytesOf(
                { container: CONTAINER, blob, start: r.start, end: r.end, fileSize: content.length },
                chunkBytes,
              );
              offset += bytes.length;
              // Each split holds whole records: it ends with '\n' unless it holds the file's tail.
              if (bytes.length > 0 && offset < content.length) expect(bytes.at(-1)).toBe(0x0a);
              pieces.push(bytes);
            }
            expect(Buffer.concat(pieces).equals(content)).toBe(true);
            const lines = pieces.flatMap((p) => splitLines(p.toString('utf8')));
            expect(lines).toEqual(splitLines(text));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a split inside one long line yields nothing; the split where the line starts reads all of it', async () => {
    const long = 'x'.repeat(300);
    const content = Buffer.from(`a\n${long}\nb\n`, 'utf8');
    const blob = await upload(content);
    const split = (start: number, end: number) => ({ container: CONTAINER, blob, start, end });
    expect((await bytesOf(split(10, 20), 16)).length).toBe(0);
    expect((await bytesOf(split(1, 10), 16)).toString()).toBe(`${long}\n`);
    expect((await bytesOf(split(0, 1), 16)).toString()).toBe('a\n');
    expect((await bytesOf(split(300, content.length), 16)).toString()).toBe('b\n');
  });

  it('a boundary between \\r and \\n gives the record to the split where it starts', async () => {
    const content = Buffer.from('one\r\ntwo\r\n', 'utf8');
    const blob = await upload(content);
    const at = content.indexOf('\n'); // split boundary right at the '\n' of "one\r\n"
    expect((await bytesOf({ container: CONTAINER, blob, start: 0, end: at })).toString()).toBe('one\r\n');
    expect((await bytesOf({ container: CONTAINER, blob, start: at, end: content.length })).toString()).toBe(
      'two\r\n',
    );
  });

  it('a multi-byte UTF-8 character cut by the boundary stays whole', async () => {
    const content = Buffer.from('é€😀\n日本\n', 'utf8');
    const blob = await upload(content);
    for (let cut = 1; cut < content.length; cut++) {
      const a = await bytesOf({ container: CONTAINER, blob, start: 0, end: cut, fileSize: content.length });
      const b = await bytesOf({ container: CONTAINER, blob, start: cut, end: content.length });
      expect([...splitLines(a.toString()), ...splitLines(b.toString())]).toEqual(['é€😀', '日本']);
    }
  });

  it('an empty blob has no records, and a split reaching past the end is clipped', async () => {
    const empty = await upload(Buffer.alloc(0));
    expect((await bytesOf({ container: CONTAINER, blob: empty, start: 0, end: 10 })).length).toBe(0);
    const blob = await upload(Buffer.from('a\nb'));
    expect((await bytesOf({ container: CONTAINER, blob, start: 0 })).toString()).toBe('a\nb');
    expect((await bytesOf({ container: CONTAINER, blob, start: 2, end: 99 })).toString()).toBe('b');
  });

  it('a gzip blob is read whole and decompressed', async () => {
    const text = 'first\r\nsecond\n\nthird';
    const blob = await upload(gzipSync(Buffer.from(text)));
    const bytes = await bytesOf({ container: CONTAINER, blob, start: 0, gzip: true }, 8);
    expect(bytes.toString()).toBe(text);
  });

  it('a gzip blob that is not gzip fails naming the blob', async () => {
    const blob = await upload(Buffer.from('plain text\n'));
    await expect(bytesOf({ container: CONTAINER, blob, start: 0, gzip: true })).rejects.toMatchObject({
      code: 'BAD_INPUT_FILE',
      message: expect.stringContaining(blob),
    });
  });

  it('a missing blob fails with INPUT_MISSING naming it', async () => {
    await expect(bytesOf({ container: CONTAINER, blob: 'no-such-blob', start: 0 })).rejects.toMatchObject({
      code: 'INPUT_MISSING',
      message: expect.stringContaining('no-such-blob'),
    });
  });
});

describe('readPartitionSplits', () => {
  it('yields a split-start marker naming the file, the offsets of the split and of its first record, and the first line when known', async () => {
    const text = 'h1,h2\n1,2\n3,4\n';
    const blob = await upload(Buffer.from(text));
    const items: unknown[] = [];
    const splits = [
      { container: CONTAINER, blob, start: 0, end: 7 },
      // Starts inside "1,2": its first record is "3,4".
      { container: CONTAINER, blob, start: 7, end: 14, columns: ['h1', 'h2'] },
      // A local file's partition blob holding the file's bytes from 6 on, whose first line the driver counted.
      {
        container: CONTAINER,
        blob,
        start: 6,
        end: 14,
        source: '/data/f.csv',
        sourceOffset: 106,
        sourceLine: 9,
      },
    ];
    for await (const item of readPartitionSplits(blobs, splits)) {
      // Chunks of one split are joined: only their concatenation is specified.
      if (Buffer.isBuffer(item) && typeof items.at(-1) === 'string') items.push(`${items.pop()}${item}`);
      else items.push(Buffer.isBuffer(item) ? item.toString() : item);
    }
    expect(items).toEqual([
      { kind: 'split-start', file: `az://${CONTAINER}/${blob}`, offset: 0, recordsStart: 0, firstLine: 1 },
      'h1,h2\n1,2\n',
      {
        kind: 'split-start',
        file: `az://${CONTAINER}/${blob}`,
        offset: 7,
        recordsStart: text.indexOf('3,4'),
        columns: ['h1', 'h2'],
      },
      '3,4\n',
      { kind: 'split-start', file: '/data/f.csv', offset: 106, recordsStart: 106, firstLine: 9 },
      '1,2\n3,4\n',
    ]);
  });
});
