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
  msgpackBrotliCodec,
  msgpackCodec,
  type RecordCodec,
  RecordDecodingError,
  RecordEncodingError,
} from '../../engine/records/codec.js';
import { recordValueArb } from './arbitraries.js';

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
      /not terminated|ends inside a frame/,
    );
  });

  it('encodes a batch containing a record the quick check cannot prove plain (a nested toJSON-free object)', () => {
    const records = [{ a: [1, { b: 'x' }] }, Object.assign(Object.create(null), { c: 2 }), 'z'];
    expect(codec.decode(codec.encode(records, 'op'))).toEqual([{ a: [1, { b: 'x' }] }, { c: 2 }, 'z']);
  });
});

describe('codec registry', () => {
  it('finds codecs by name; msgpack is the default', () => {
    expect(getCodec('json-lines')).toBe(jsonLinesCodec);
    expect(getCodec('json-batches')).toBe(jsonBatchesCodec);
    expect(getCodec()).toBe(msgpackCodec);
    expect(DEFAULT_CODEC_NAME).toBe('msgpack');
    expect(getCodec('json-batches+brotli')).toBe(jsonBatchesBrotliCodec);
    expect(getCodec('msgpack+brotli')).toBe(msgpackBrotliCodec);
    expect(() => getCodec('nope')).toThrow(/unknown record codec/);
  });
});

/** `value` and `expected` are the same record value, down to -0, Buffer vs Uint8Array and prototypes. */
function expectExactly(value: unknown, expected: unknown): void {
  expect(value).toStrictEqual(expected);
  const walk = (a: unknown, b: unknown): void => {
    if (typeof b === 'number') expect(Object.is(a, b)).toBe(true);
    if (typeof b !== 'object' || b === null) return;
    expect(Object.getPrototypeOf(a)).toBe(
      Object.getPrototypeOf(b) === null ? Object.prototype : Object.getPrototypeOf(b),
    );
    if (b instanceof Map) {
      const entries = [...(a as Map<unknown, unknown>)];
      [...b].forEach(([k, v], i) => {
        walk(entries[i]![0], k);
        walk(entries[i]![1], v);
      });
    } else if (b instanceof Set) {
      const values = [...(a as Set<unknown>)];
      [...b].forEach((v, i) => {
        walk(values[i], v);
      });
    } else if (!ArrayBuffer.isView(b) && !(b instanceof Date)) {
      expect(Object.keys(a as object)).toEqual(Object.keys(b));
      for (const k of Object.keys(b))
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
    }
  };
  walk(value, expected);
}

describe.each<[string, RecordCodec]>([
  ['msgpack', msgpackCodec],
  ['msgpack+brotli', msgpackBrotliCodec],
])('%s record codec', (_name, codec) => {
  it('decodes exactly what it encodes, for every record value', () => {
    fc.assert(
      fc.property(fc.array(recordValueArb, { maxLength: 12 }), (records) => {
        expectExactly(codec.decode(codec.encode(records, 'test')), records);
      }),
    );
  });

  it('decodes a stream cut at arbitrary byte offsets, batches concatenated', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(recordValueArb, { maxLength: 6 }), { maxLength: 4 }),
        fc.array(fc.nat(600), { maxLength: 10 }),
        async (batches, cuts) => {
          const bytes = Buffer.concat(batches.map((b) => codec.encode(b, 'test')));
          const out: unknown[] = [];
          for await (const batch of decodeChunks(codec, chunksOf(bytes, cuts))) out.push(...batch);
          expectExactly(out, batches.flat());
        },
      ),
    );
  });

  it('carries each value type as itself', () => {
    const records = [
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      2 ** 53,
      1n,
      -(2n ** 64n),
      2n ** 200n,
      new Date(Date.UTC(2024, 4, 1, 12)),
      new Date(Number.NaN),
      new Map<unknown, unknown>([
        [1, 'a'],
        [new Date(3), [1n]],
        ['x', new Map([[null, undefined]])],
      ]),
      new Set([1, 'a', -0]),
      Buffer.from([1, 2, 3]),
      new Uint8Array([4, 5]),
      new Float64Array([1.5, -0, Number.NaN]),
      new BigInt64Array([-1n]),
      'lone \ud800 surrogate',
      { '\udc00': 1, ok: [undefined, null] },
      JSON.parse('{"__proto__": {"x": 1}, "a": 1}'),
      Object.assign(Object.create(null), { nullProto: true }),
      { u: undefined, toJSON: 3 },
      [[[-0]]],
    ];
    const decoded = codec.decode(codec.encode(records, 'op'));
    expectExactly(
      decoded,
      records.map((r) => (Object.getPrototypeOf(r) === null ? { ...r } : r)),
    );
    expect(Buffer.isBuffer(decoded[12])).toBe(true);
    expect(Buffer.isBuffer(decoded[13])).toBe(false);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.hasOwn(decoded[18] as object, '__proto__')).toBe(true);
  });

  it('frames encoded after a large one do not pin its buffer', () => {
    const big = Array.from({ length: 60_000 }, (_, i) => [`k${i}`, 'x'.repeat(100)]);
    const large = codec.encode(big, 'op');
    const small = codec.encode([1, 2], 'op');
    expect(small.buffer.byteLength).toBeLessThan(1024 * 1024);
    expect(codec.decode(Buffer.concat([large, small]))).toEqual([...big, 1, 2]);
  });

  it('a decoded Buffer is a copy, not a view of the bytes it was decoded from', () => {
    const bytes = codec.encode([Buffer.from([7, 7, 7])], 'op');
    const [buf] = codec.decode(bytes) as Buffer[];
    expect(buf!.buffer).not.toBe(bytes.buffer);
  });

  it('refuses what it cannot carry, naming the operator and the path', () => {
    class Point {
      x = 1;
    }
    const cycle: unknown[] = [1];
    cycle.push({ back: cycle });
    const sparse = [1];
    sparse[2] = 3;
    const cases: [unknown, string][] = [
      [[1, { items: new Map([['x', () => 1]]) }], 'record[1].items.get("x"): a function'],
      [{ p: new Point() }, 'record.p: an instance of Point'],
      [[Symbol('s')], 'record[0]: a symbol (Symbol(s))'],
      [cycle, 'record[1].back: a cycle'],
      [new Set([new WeakMap()]), 'record.values()[0]: an instance of WeakMap'],
      [new Map([[{ f: Math.max }, 1]]), 'record.keys()[0].f: a function (max)'],
      [{ 'odd key': sparse }, 'record["odd key"][1]: a hole'],
      [new ArrayBuffer(2), 'record: an ArrayBuffer'],
      [/x/, 'record: an instance of RegExp'],
      [new Error('e'), 'record: an instance of Error'],
    ];
    for (const [record, path] of cases) {
      expect(() => codec.encode(['fine', record], 'map at job.ts:3')).toThrow(
        expect.objectContaining({
          code: 'RECORD_NOT_ENCODABLE',
          retryable: false,
          message: expect.stringContaining(
            `map at job.ts:3 produced a record that cannot be encoded: ${path}`,
          ),
        }),
      );
    }
  });

  it('refuses nesting deeper than 512 levels instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 600; i++) deep = [deep];
    expect(() => codec.encode([deep], 'op')).toThrow(/nested deeper than 512 levels/);
  });

  it('a truncated stream is an error, not a silently lost record', () => {
    const bytes = codec.encode([{ a: 1 }, 'x'], 'op');
    expect(() => codec.decode(bytes.subarray(0, bytes.length - 1))).toThrow(RecordDecodingError);
    const decoder = codec.decoder();
    decoder.push(bytes.subarray(0, 3));
    expect(() => decoder.end()).toThrow(/ends inside a frame/);
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
