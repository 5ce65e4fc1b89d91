/**
 * The `msgpack` record codec (the default): each encode() call writes one frame — a 4-byte
 * big-endian length, then one MessagePack array holding the batch's records — so frames
 * concatenate, a segment of a shuffle blob (whole frames) decodes on its own, and a stream
 * decodes frame by frame as its chunks arrive. It carries every value of record-values.ts
 * exactly, and refuses the rest naming where it is (`record[1].f: a function`).
 *
 * MessagePack comes from msgpackr (docs/decisions.md), configured so that nothing changes on the
 * way: objects are written as msgpackr records (its structure extension, definitions inline in
 * every frame, so frames stay independent) and Maps as MessagePack maps, so each arrives as
 * itself; Dates use the standard timestamp extension, bigints int64/uint64 or msgpackr's bigint
 * extension, undefined its fixext, Sets and typed arrays msgpackr's `moreTypes` extensions, a
 * Buffer the bin type. What standard MessagePack would change is written as our own extension
 * types 1–3 (see record-values.ts): -0 (integer forms have no sign), strings with lone surrogates
 * (UTF-8 cannot hold them: their UTF-16 code units instead) and objects whose property names
 * msgpackr's records would rename (`__proto__`) or mangle (lone surrogates).
 */
import { addExtension, Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';
import {
  decodeFrames,
  FRAME_HEADER,
  framedStreamDecoder,
  type RecordCodec,
  RecordDecodingError,
  RecordEncodingError,
} from './record-codec.js';
import {
  classifyValue,
  EntriesObject,
  IllFormedString,
  NEEDS_SUBSTITUTE,
  NegativeZero,
  objectFromEntries,
  PLAIN,
  substituteValue,
  UNSUPPORTED,
  unsupportedValue,
} from './record-values.js';

const NAME = 'msgpack';

// Extension types 1–3 (msgpackr leaves 1–100 to applications). `write` makes msgpackr write a
// one-byte tag and then the returned value; `read` gets that value back.
addExtension({ Class: NegativeZero, type: 1, write: () => 0, read: () => -0 });
addExtension({
  Class: IllFormedString,
  type: 2,
  write: (s: IllFormedString) => Buffer.from(s.text, 'utf16le'),
  read: (units: Uint8Array) =>
    Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString('utf16le'),
});
addExtension({
  Class: EntriesObject,
  type: 3,
  write: (o: EntriesObject) => o.entries,
  read: (entries: unknown[]) => objectFromEntries(entries),
});

const options = {
  // Objects as records, Maps as maps: each decodes as what it was (mapsAsObjects: false).
  useRecords: true,
  mapsAsObjects: false,
  // Sets, typed arrays and bigints beyond 64 bits as msgpackr's extensions.
  moreTypes: true,
  useBigIntExtension: true,
  int64AsType: 'bigint' as const,
  // A decoded Buffer is its own copy: it must not pin (or alias) the chunk it came in.
  copyBuffers: true,
  // Values are checked before packing; an own `toJSON` property is data, never called.
  useToJSON: false,
};
const packr = new Packr(options);
const unpackr = new Unpackr(options);

/**
 * msgpackr packs into one buffer that it grows to 4× the largest value packed and keeps for
 * later values. After a large frame (a big result or broadcast value) it gets a fresh small one,
 * so the large one lives only as long as that frame does.
 */
const LARGE_FRAME_BYTES = 4 * 1024 * 1024;

/** The records of one frame (one MessagePack array). */
function decodeFrame(frame: Buffer): unknown[] {
  let batch: unknown;
  try {
    batch = unpackr.unpack(frame);
  } catch (error) {
    throw new RecordDecodingError(NAME, `a frame does not decode: ${(error as Error).message}`);
  }
  if (!Array.isArray(batch)) throw new RecordDecodingError(NAME, 'a frame does not hold a batch of records');
  return batch;
}

/**
 * A [string, string] record of well-formed strings (a keyed line: the sort's and most shuffles'
 * records), which classifyValue would find PLAIN after a generic walk; checked directly.
 */
function isPlainStringPair(record: unknown): boolean {
  if (!Array.isArray(record) || record.length !== 2) return false;
  const k: unknown = record[0];
  const v: unknown = record[1];
  return (
    typeof k === 'string' &&
    typeof v === 'string' &&
    Object.getPrototypeOf(record) === Array.prototype &&
    k.isWellFormed() &&
    v.isWellFormed()
  );
}

/**
 * The records to pack: `list` itself when every record is written as it is, else a copy with the
 * records that need substitutes substituted. Throws RecordEncodingError naming the first
 * unsupported value's path.
 */
function packable(list: readonly unknown[], operator: string): readonly unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const record = list[i];
    if (isPlainStringPair(record)) continue;
    const verdict = classifyValue(record);
    if (verdict === PLAIN) continue;
    if (verdict === UNSUPPORTED) {
      throw new RecordEncodingError(operator, unsupportedValue(record) ?? 'record: not encodable');
    }
    if (verdict === NEEDS_SUBSTITUTE) {
      out ??= list.slice();
      out[i] = substituteValue(record);
    }
  }
  return out ?? list;
}

/** The binary record codec: one length-prefixed MessagePack frame per encoded batch. */
export const msgpackCodec: RecordCodec = {
  name: NAME,
  encode(records: Iterable<unknown>, operator: string): Buffer {
    const list = Array.isArray(records) ? (records as unknown[]) : Array.from(records);
    if (list.length === 0) return Buffer.alloc(0);
    // The frame header is reserved in msgpackr's own buffer, so the frame is never copied.
    const frame = packr.pack(packable(list, operator), RESERVE_START_SPACE | FRAME_HEADER);
    frame.writeUInt32BE(frame.length - FRAME_HEADER, 0);
    if (frame.length > LARGE_FRAME_BYTES) packr.useBuffer(Buffer.allocUnsafeSlow(64 * 1024));
    return frame;
  },
  decode: (bytes: Uint8Array): unknown[] => decodeFrames(NAME, bytes, decodeFrame),
  decoder: () => framedStreamDecoder(NAME, decodeFrame),
};
