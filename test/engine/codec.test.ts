import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CODEC_NAME,
  decodeChunks,
  getCodec,
  jsonBatchesBrotliCodec,
  jsonBatchesCodec,
  jsonLinesCodec,
  type RecordCodec,
  RecordDecodingError,
  RecordEncodingError,
} from '../../engine/records/codec.js';

const recordArb = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);

async function* chunksOf(buffer: Buffer, cuts: number[]): AsyncIterable<Buffer> {
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    const end = Math.min(buffer.length, cut);
    if (end <= start) continue;
    yield buffer.subarray(start, end);
    start = end;
  }
  yield buffer.subarray(start);
}

describe.each<[string, RecordCodec]>([
  ['json-lines', jsonLinesCodec],
  ['json-batches', jsonBatchesCodec],
  ['json-batches+brotli', jsonBatchesBrotliCodec],
])('%s record codec', (_name, codec) => {
  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 20 }), (records) => {
        expect(codec.decode(codec.encode(records, 'test'))).toEqual(records);
      }),
    );
  });

  it('decodes a stream cut at arbitrary byte offsets, records straddling chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(recordArb, fc.string({ unit: 'grapheme' })), { maxLength: 20 }),
        fc.array(fc.nat(400), { maxLength: 10 }),
        async (records, cuts) => {
          const bytes = codec.encode(records, 'test');
          const out: unknown[] = [];
          for await (const batch of decodeChunks(codec, chunksOf(bytes, cuts))) out.push(...batch);
          expect(out).toEqual(records);
        },
      ),
    );
  });

  it('concatenated batches decode as one sequence', () => {
    const a = codec.encode([1, 'x'], 'op');
    const b = codec.encode([[1, null]], 'op');
    const c = codec.encode([], 'op');
    expect(codec.decode(Buffer.concat([a, c, b]))).toEqual([1, 'x', [1, null]]);
  });

  it('rejects functions, class instances, NaN and undefined, naming the operator', () => {
    class Point {
      x = 1;
    }
    const bad = [
      () => 1,
      new Point(),
      new Date(0),
      new Map(),
      Number.NaN,
      undefined,
      [1, undefined],
      10n,
      { a: Symbol() },
    ];
    for (const record of bad) {
      expect(() => codec.encode([record], 'map at node 3')).toThrow(RecordEncodingError);
    }
    expect(() => codec.encode([{ p: new Point() }], 'map at node 3')).toThrow(
      /map at node 3 produced a record that cannot be encoded: an instance of Point at \["p"\]/,
    );
  });

  it('drops object properties whose value is undefined, as JSON does', () => {
    expect(codec.decode(codec.encode([{ a: 1, b: undefined }], 'op'))).toEqual([{ a: 1 }]);
  });

  it('a truncated stream is an error, not a silently lost record', () => {
    const bytes = codec.encode([{ a: 1 }], 'op');
    expect(() => codec.decode(bytes.subarray(0, bytes.length - 1))).toThrow(
      /not terminated|ends inside a compressed frame/,
    );
  });

  it('encodes a batch containing a record the quick check cannot prove plain (a nested toJSON-free object)', () => {
    const records = [{ a: [1, { b: 'x' }] }, Object.assign(Object.create(null), { c: 2 }), 'z'];
    expect(codec.decode(codec.encode(records, 'op'))).toEqual([{ a: [1, { b: 'x' }] }, { c: 2 }, 'z']);
  });
});

describe('codec registry', () => {
  it('finds codecs by name; json-batches is the default', () => {
    expect(getCodec('json-lines')).toBe(jsonLinesCodec);
    expect(getCodec()).toBe(jsonBatchesCodec);
    expect(DEFAULT_CODEC_NAME).toBe('json-batches');
    expect(getCodec('json-batches+brotli')).toBe(jsonBatchesBrotliCodec);
    expect(() => getCodec('nope')).toThrow(/unknown record codec/);
  });
});

describe('json-batches+brotli framing', () => {
  const codec = jsonBatchesBrotliCodec;
  const records = Array.from({ length: 1024 }, (_, i) => [`word-${i % 50}`, i]);

  it('holds the same records as json-batches in far fewer bytes', () => {
    const plain = jsonBatchesCodec.encode(records, 'op');
    const packed = codec.encode(records, 'op');
    expect(packed.length * 3).toBeLessThan(plain.length);
    expect(codec.decode(packed)).toEqual(jsonBatchesCodec.decode(plain));
  });

  it('a frame far larger than the chunks it arrives in decodes whole, once', () => {
    const big = Array.from({ length: 1024 }, (_, i) => [i, randomBytes(1500).toString('base64')]);
    const bytes = Buffer.concat([codec.encode(big, 'op'), codec.encode(records, 'op')]);
    expect(bytes.length).toBeGreaterThan(1_000_000);
    const decoder = codec.decoder();
    const out: unknown[] = [];
    for (let at = 0; at < bytes.length; at += 1000) out.push(...decoder.push(bytes.subarray(at, at + 1000)));
    out.push(...decoder.end());
    expect(out).toEqual([...big, ...records]);
  });

  it('a stream that ends inside a frame, or a frame that does not decompress, is a decoding error', () => {
    const bytes = Buffer.concat([codec.encode(records, 'op'), codec.encode([1, 2], 'op')]);
    const decoder = codec.decoder();
    expect(decoder.push(bytes.subarray(0, bytes.length - 3))).toHaveLength(records.length);
    expect(() => decoder.end()).toThrow(RecordDecodingError);
    const corrupt = Buffer.from(bytes);
    corrupt.fill(0xff, 8, 40);
    expect(() => codec.decode(corrupt)).toThrow(/json-batches\+brotli codec: a frame does not decompress/);
  });
});
