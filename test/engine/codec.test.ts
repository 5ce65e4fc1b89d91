import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeChunks, getCodec, jsonLinesCodec, RecordEncodingError } from '../../engine/codec.js';

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

describe('json-lines record codec', () => {
  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 20 }), (records) => {
        expect(jsonLinesCodec.decode(jsonLinesCodec.encode(records, 'test'))).toEqual(records);
      }),
    );
  });

  it('decodes a stream cut at arbitrary byte offsets, records straddling chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(recordArb, fc.string({ unit: 'grapheme' })), { maxLength: 20 }),
        fc.array(fc.nat(400), { maxLength: 10 }),
        async (records, cuts) => {
          const bytes = jsonLinesCodec.encode(records, 'test');
          const out: unknown[] = [];
          for await (const batch of decodeChunks(jsonLinesCodec, chunksOf(bytes, cuts))) out.push(...batch);
          expect(out).toEqual(records);
        },
      ),
    );
  });

  it('concatenated batches decode as one sequence', () => {
    const a = jsonLinesCodec.encode([1, 'x'], 'op');
    const b = jsonLinesCodec.encode([[1, null]], 'op');
    expect(jsonLinesCodec.decode(Buffer.concat([a, b]))).toEqual([1, 'x', [1, null]]);
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
      expect(() => jsonLinesCodec.encode([record], 'map at node 3')).toThrow(RecordEncodingError);
    }
    expect(() => jsonLinesCodec.encode([{ p: new Point() }], 'map at node 3')).toThrow(
      /map at node 3 produced a record that cannot be encoded: an instance of Point at \["p"\]/,
    );
  });

  it('drops object properties whose value is undefined, as JSON does', () => {
    expect(jsonLinesCodec.decode(jsonLinesCodec.encode([{ a: 1, b: undefined }], 'op'))).toEqual([{ a: 1 }]);
  });

  it('a truncated stream is an error, not a silently lost record', () => {
    const bytes = jsonLinesCodec.encode([{ a: 1 }], 'op');
    expect(() => jsonLinesCodec.decode(bytes.subarray(0, bytes.length - 1))).toThrow(/not terminated/);
  });

  it('is found by name', () => {
    expect(getCodec('json-lines')).toBe(jsonLinesCodec);
    expect(() => getCodec('nope')).toThrow(/unknown record codec/);
  });
});
