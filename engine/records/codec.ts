/**
 * Record codecs: how records travel in shuffle segments, cached partitions, spill runs, broadcast
 * blobs and result blobs. A codec is named, so a stage descriptor says which one its blobs use.
 *
 * `msgpack` (the default; msgpack-codec.ts) is binary and carries every record value of
 * record-values.ts exactly. The JSON codecs remain for what must be JSON: `json-lines` writes
 * each record as one line of JSON (saveAsJsonLines writes this format); `json-batches` writes
 * each encoded batch as one line holding a JSON array of its records. Both are UTF-8 with '\n'
 * after every line, and JSON never writes a raw newline inside a value, so a stream can be cut
 * at any '\n' byte. The JSON codecs carry exactly:
 *   - null, booleans, finite numbers (-0 arrives as 0), strings (any UTF-16, lone
 *     surrogates included);
 *   - arrays of supported values (no holes, no `undefined` elements);
 *   - plain objects (prototype Object.prototype or null) whose property values are
 *     supported; a property whose value is `undefined` is dropped, as JSON does.
 * and reject anything else with a RecordEncodingError naming the operator that produced it.
 * `brotliFramed` wraps any codec so that each encoded batch is compressed as its own frame.
 */
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { StratusError } from '../../contract/errors.js';
import { msgpackCodec } from './msgpack-codec.js';
import {
  decodeFrames,
  FRAME_HEADER,
  framedStreamDecoder,
  type RecordCodec,
  RecordDecodingError,
  RecordEncodingError,
  type RecordStreamDecoder,
} from './record-codec.js';

export {
  type RecordCodec,
  RecordDecodingError,
  RecordEncodingError,
  type RecordStreamDecoder,
} from './record-codec.js';

function describe(value: unknown): string {
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'bigint') return `a bigint (${value}n)`;
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined';
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return `an instance of ${ctor ?? 'an unknown class'}`;
}

function pathText(path: string[]): string {
  return path.length === 0 ? 'the record itself' : path.map((p) => `[${JSON.stringify(p)}]`).join('');
}

/** Check one record against the JSON codecs' set; returns a message when it is not supported. */
function unsupportedJsonValue(record: unknown): string | undefined {
  const path: string[] = [];
  const seen = new Set<object>();
  const visit = (value: unknown, inArrayOrTop: boolean): string | undefined => {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return undefined;
      case 'number':
        return Number.isFinite(value) ? undefined : `${describe(value)} at ${pathText(path)}`;
      case 'undefined':
        return inArrayOrTop ? `undefined at ${pathText(path)}` : undefined;
      case 'object': {
        if (value === null) return undefined;
        if (seen.has(value)) return `a cycle at ${pathText(path)}`;
        const isArray = Array.isArray(value);
        const proto = Object.getPrototypeOf(value);
        if (!isArray && proto !== Object.prototype && proto !== null)
          return `${describe(value)} at ${pathText(path)}`;
        seen.add(value);
        if (isArray) {
          for (let i = 0; i < value.length; i++) {
            if (!(i in value)) return `a hole at ${pathText([...path, String(i)])}`;
            path.push(String(i));
            const bad = visit(value[i], true);
            path.pop();
            if (bad) return bad;
          }
        } else {
          for (const key of Object.keys(value)) {
            path.push(key);
            const bad = visit((value as Record<string, unknown>)[key], false);
            path.pop();
            if (bad) return bad;
          }
        }
        seen.delete(value);
        return undefined;
      }
      default:
        return `${describe(value)} at ${pathText(path)}`;
    }
  };
  return visit(record, true);
}

const NEWLINE = 0x0a;

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new RecordDecodingError('json-lines', `not a JSON record: ${line.slice(0, 80)}`);
  }
}

function decodeText(text: string, out: unknown[]): void {
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) break;
    out.push(parseLine(text.slice(start, end)));
    start = end + 1;
  }
  if (start < text.length) throw new RecordDecodingError('json-lines', 'the last record is not terminated');
}

/** One record as JSON text, checked (see the file comment); throws RecordEncodingError. */
function recordJson(record: unknown, operator: string): string {
  let text: string | undefined;
  try {
    // Records the quick check proves supported need no replacer (a replacer function makes
    // JSON.stringify several times slower); anything else takes the checking path.
    text = isPlainRecord(record, 0) ? JSON.stringify(record) : JSON.stringify(record, checkingReplacer);
  } catch (error) {
    const bad = unsupportedJsonValue(record);
    throw new RecordEncodingError(operator, bad ?? (error as Error).message);
  }
  if (text === undefined) throw new RecordEncodingError(operator, `${describe(record)} is not a record`);
  return text;
}

/**
 * A streaming decoder over '\n'-terminated lines: `decodeLine` turns one line into the
 * records it holds (one for json-lines, a batch for json-batches).
 */
function lineStreamDecoder(
  codec: string,
  decodeText: (text: string, out: unknown[]) => void,
): RecordStreamDecoder {
  let pending: Buffer[] = [];
  return {
    push(chunk: Uint8Array): unknown[] {
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const last = buf.lastIndexOf(NEWLINE);
      if (last < 0) {
        pending.push(buf);
        return [];
      }
      const head = buf.subarray(0, last + 1);
      const whole = pending.length > 0 ? Buffer.concat([...pending, head]) : head;
      pending = last + 1 < buf.length ? [buf.subarray(last + 1)] : [];
      const out: unknown[] = [];
      decodeText(whole.toString('utf8'), out);
      return out;
    },
    end(): unknown[] {
      const rest = Buffer.concat(pending);
      pending = [];
      if (rest.length > 0) throw new RecordDecodingError(codec, 'the stream ends inside a record');
      return [];
    },
  };
}

/** The JSON Lines codec: one record per line (saveAsJsonLines writes this format). */
export const jsonLinesCodec: RecordCodec = {
  name: 'json-lines',
  encode(records: Iterable<unknown>, operator: string): Buffer {
    const lines: string[] = [];
    for (const record of records) lines.push(recordJson(record, operator));
    if (lines.length === 0) return Buffer.alloc(0);
    lines.push('');
    return Buffer.from(lines.join('\n'), 'utf8');
  },
  decode(bytes: Uint8Array): unknown[] {
    const out: unknown[] = [];
    decodeText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), out);
    return out;
  },
  decoder: () => lineStreamDecoder('json-lines', decodeText),
};

function decodeBatchText(text: string, out: unknown[]): void {
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) break;
    const line = text.slice(start, end);
    let batch: unknown;
    try {
      batch = JSON.parse(line);
    } catch {
      throw new RecordDecodingError('json-batches', `not a JSON batch: ${line.slice(0, 80)}`);
    }
    if (!Array.isArray(batch))
      throw new RecordDecodingError('json-batches', `not a JSON array: ${line.slice(0, 80)}`);
    for (let i = 0; i < batch.length; i++) out.push(batch[i]);
    start = end + 1;
  }
  if (start < text.length) throw new RecordDecodingError('json-batches', 'the last batch is not terminated');
}

/**
 * The JSON batches codec (the default for shuffle segments, spills and cached partitions):
 * each encode() call writes one line holding a JSON array of its records. The record set is
 * json-lines' exactly; one JSON.stringify / JSON.parse per batch instead of per record made
 * encoding about 3× faster on the sort bench's records (docs/decisions.md).
 */
export const jsonBatchesCodec: RecordCodec = {
  name: 'json-batches',
  encode(records: Iterable<unknown>, operator: string): Buffer {
    const list = Array.isArray(records) ? (records as unknown[]) : Array.from(records);
    if (list.length === 0) return Buffer.alloc(0);
    let plain = true;
    for (let i = 0; i < list.length; i++) {
      if (!isPlainRecord(list[i], 0)) {
        plain = false;
        break;
      }
    }
    if (plain) return Buffer.from(`${JSON.stringify(list)}\n`, 'utf8');
    const texts: string[] = [];
    for (const record of list) texts.push(recordJson(record, operator));
    return Buffer.from(`[${texts.join(',')}]\n`, 'utf8');
  },
  decode(bytes: Uint8Array): unknown[] {
    const out: unknown[] = [];
    decodeBatchText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), out);
    return out;
  },
  decoder: () => lineStreamDecoder('json-batches', decodeBatchText),
};

/** Nesting beyond which the quick check gives up (and the checking path, which detects cycles, decides). */
const QUICK_CHECK_DEPTH = 32;

/**
 * True when `value` is certainly a supported record that JSON.stringify writes faithfully:
 * strings, finite numbers, booleans, null, dense arrays without undefined, and plain objects
 * (no toJSON) of these. False means "not proven", never "unsupported". Allocation-free, for
 * the per-record hot path (sort records: JSON.stringify with a replacer was the task's top cost).
 */
function isPlainRecord(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= QUICK_CHECK_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isPlainRecord(value[i], depth + 1)) return false;
        }
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      if ('toJSON' in value) return false;
      for (const key in value) {
        const v = (value as Record<string, unknown>)[key];
        // An undefined property is dropped by JSON, as the format allows.
        if (v !== undefined && !isPlainRecord(v, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Rejects what JSON would silently change (NaN → null, Date → string, Map → {}); see the file comment. */
function checkingReplacer(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  switch (typeof original) {
    case 'number':
      if (!Number.isFinite(original)) throw new Error('non-finite number');
      return value;
    case 'undefined':
      if (key === '' || Array.isArray(this)) throw new Error('undefined');
      return value;
    case 'object': {
      if (original === null || Array.isArray(original)) return value;
      const proto = Object.getPrototypeOf(original);
      if (proto !== Object.prototype && proto !== null) throw new Error('class instance');
      return value;
    }
    case 'string':
    case 'boolean':
      return value;
    default:
      throw new Error(typeof original);
  }
}

/**
 * Brotli parameters of shuffle compression: quality 1 (the fastest; the bench's records compress
 * about 3× at ~160 MB/s) and a 256 KiB window, enough for one batch of records, so each call
 * allocates little. docs/decisions.md has the measurements.
 */
const BROTLI_PARAMS = {
  [zlib.BROTLI_PARAM_QUALITY]: 1,
  [zlib.BROTLI_PARAM_LGWIN]: 18,
  [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
};

/**
 * A codec whose every encoded batch is `inner`'s bytes compressed with brotli, as one frame: a
 * 4-byte big-endian length, then the compressed bytes. Frames concatenate like the inner
 * batches do, so a segment of a shuffle blob (whole batches) still decodes on its own and a
 * stream can be decoded frame by frame as its chunks arrive.
 */
export function brotliFramed(inner: RecordCodec): RecordCodec {
  const name = `${inner.name}+brotli`;
  const decodeFrame = (frame: Buffer): unknown[] => {
    let plain: Buffer;
    try {
      plain = brotliDecompressSync(frame);
    } catch (error) {
      throw new RecordDecodingError(name, `a frame does not decompress: ${(error as Error).message}`);
    }
    return inner.decode(plain);
  };
  return {
    name,
    encode(records: Iterable<unknown>, operator: string): Buffer {
      const plain = inner.encode(records, operator);
      if (plain.length === 0) return plain;
      const packed = brotliCompressSync(plain, {
        params: { ...BROTLI_PARAMS, [zlib.BROTLI_PARAM_SIZE_HINT]: plain.length },
      });
      const frame = Buffer.allocUnsafe(FRAME_HEADER + packed.length);
      frame.writeUInt32BE(packed.length, 0);
      packed.copy(frame, FRAME_HEADER);
      return frame;
    },
    decode: (bytes: Uint8Array): unknown[] => decodeFrames(name, bytes, decodeFrame),
    decoder: (): RecordStreamDecoder => framedStreamDecoder(name, decodeFrame),
  };
}

/** json-batches compressed with brotli: the codec of compressed shuffle segments, spills and caches. */
export const jsonBatchesBrotliCodec: RecordCodec = brotliFramed(jsonBatchesCodec);

/** msgpack compressed with brotli: the codec of compressed shuffle segments, spills and caches. */
export const msgpackBrotliCodec: RecordCodec = brotliFramed(msgpackCodec);

export { msgpackCodec } from './msgpack-codec.js';

const codecs = new Map<string, RecordCodec>([
  [jsonLinesCodec.name, jsonLinesCodec],
  [jsonBatchesCodec.name, jsonBatchesCodec],
  [jsonBatchesBrotliCodec.name, jsonBatchesBrotliCodec],
  [msgpackCodec.name, msgpackCodec],
  [msgpackBrotliCodec.name, msgpackBrotliCodec],
]);

/**
 * The codec used when a stage descriptor names none, and for broadcast values and result blobs:
 * binary MessagePack (docs/decisions.md), which carries every record value exactly.
 */
export const DEFAULT_CODEC_NAME = msgpackCodec.name;

/** Look a codec up by name; throws StratusError('UNKNOWN_CODEC') when this build does not have it. */
export function getCodec(name: string = DEFAULT_CODEC_NAME): RecordCodec {
  const codec = codecs.get(name);
  if (!codec) throw new StratusError('UNKNOWN_CODEC', `unknown record codec ${JSON.stringify(name)}`);
  return codec;
}

/** Register another codec (tests, experiments). */
export function registerCodec(codec: RecordCodec): void {
  codecs.set(codec.name, codec);
}

/** Decode a stream of chunks into batches of records. */
export async function* decodeChunks(
  codec: RecordCodec,
  chunks: AsyncIterable<Uint8Array>,
): AsyncIterable<unknown[]> {
  const decoder = codec.decoder();
  for await (const chunk of chunks) {
    const records = decoder.push(chunk);
    if (records.length > 0) yield records;
  }
  const rest = decoder.end();
  if (rest.length > 0) yield rest;
}
