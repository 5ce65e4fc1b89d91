/**
 * The record codec interface every codec implements, its errors, and the length-prefixed
 * framing the binary codecs share. A codec is named, so a stage descriptor says which one its
 * blobs use (codec.ts keeps the registry).
 */
import { StratusError } from '../../contract/errors.js';

/**
 * A record the codec cannot encode; `operator` names the dataset operation that produced it.
 * Not retryable: the operation produces the same record on every attempt.
 */
export class RecordEncodingError extends StratusError {
  /** The dataset operation that produced the record (`map`, `broadcast 0`…). */
  readonly operator: string;
  constructor(operator: string, message: string) {
    super('RECORD_NOT_ENCODABLE', `${operator} produced a record that cannot be encoded: ${message}`);
    this.name = 'RecordEncodingError';
    this.operator = operator;
  }
}

/**
 * Bytes that do not decode as records of the codec (a truncated or foreign blob). Retryable:
 * the bytes came from storage, and a read cut short decodes on the next attempt (a blob that
 * is truly foreign fails maxFailures times).
 */
export class RecordDecodingError extends StratusError {
  constructor(codec: string, message: string) {
    super('RECORD_NOT_DECODABLE', `${codec} codec: ${message}`, {}, { retryable: true });
    this.name = 'RecordDecodingError';
  }
}

/** Incremental decoder: push chunks in order (a record may straddle chunks), then end(). */
export interface RecordStreamDecoder {
  /** Decode every record completed by `chunk`. */
  push(chunk: Uint8Array): unknown[];
  /** The records left at end of stream; throws RecordDecodingError on a truncated record. */
  end(): unknown[];
}

/** A named, swappable record codec. Encoded batches concatenate: encode(a) + encode(b) decodes to a ++ b. */
export interface RecordCodec {
  readonly name: string;
  /** Encode records; `operator` labels the producer in errors. Throws RecordEncodingError. */
  encode(records: Iterable<unknown>, operator: string): Buffer;
  /** Decode a whole buffer (concatenated batches allowed). */
  decode(bytes: Uint8Array): unknown[];
  /** A streaming decoder over chunks. */
  decoder(): RecordStreamDecoder;
}

/** Bytes of a frame's length prefix (uint32, big-endian). */
export const FRAME_HEADER = 4;

/**
 * Split whole frames (a 4-byte big-endian length, then that many bytes) off `bytes`, calling
 * `visit` for each; returns where the first incomplete frame starts (bytes.length when none is).
 */
export function eachFrame(bytes: Buffer, visit: (frame: Buffer) => void): number {
  let at = 0;
  while (bytes.length - at >= FRAME_HEADER) {
    const size = bytes.readUInt32BE(at);
    if (bytes.length - at - FRAME_HEADER < size) break;
    visit(bytes.subarray(at + FRAME_HEADER, at + FRAME_HEADER + size));
    at += FRAME_HEADER + size;
  }
  return at;
}

/** A Buffer view of `bytes` (no copy). */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes one frame into its records (a fresh array the caller may keep). */
export type FrameDecoder = (frame: Buffer) => unknown[];

/** The records of every whole frame of `bytes`; returns where the first incomplete frame starts. */
function decodeWholeFrames(bytes: Buffer, decodeFrame: FrameDecoder): { records: unknown[]; used: number } {
  let records: unknown[] | undefined;
  const used = eachFrame(bytes, (frame) => {
    const batch = decodeFrame(frame);
    if (records === undefined) records = batch;
    else for (let i = 0; i < batch.length; i++) records.push(batch[i]);
  });
  return { records: records ?? [], used };
}

/**
 * Decode a whole buffer of frames with `decodeFrame`. Throws RecordDecodingError (named after
 * `codec`) when the bytes end inside a frame.
 */
export function decodeFrames(codec: string, bytes: Uint8Array, decodeFrame: FrameDecoder): unknown[] {
  const buf = bufferView(bytes);
  const { records, used } = decodeWholeFrames(buf, decodeFrame);
  if (used !== buf.length) throw new RecordDecodingError(codec, 'the stream ends inside a frame');
  return records;
}

/**
 * A streaming decoder over frames arriving in chunks of any size. Chunks of an incomplete frame
 * wait in a list and are joined once the frame is whole, so a frame far larger than the chunks
 * is copied once, not once per chunk; whole frames inside a chunk are decoded in place.
 */
export function framedStreamDecoder(codec: string, decodeFrame: FrameDecoder): RecordStreamDecoder {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** Bytes the first pending frame needs, header included; undefined until its header arrived. */
  const needed = (): number | undefined => {
    if (pendingBytes < FRAME_HEADER) return undefined;
    const head = pending[0]!.length >= FRAME_HEADER ? pending[0]! : Buffer.concat(pending);
    return FRAME_HEADER + head.readUInt32BE(0);
  };
  return {
    push(chunk: Uint8Array): unknown[] {
      if (chunk.byteLength === 0) return [];
      pending.push(bufferView(chunk));
      pendingBytes += chunk.byteLength;
      const need = needed();
      if (need === undefined || pendingBytes < need) return [];
      const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      const { records, used } = decodeWholeFrames(bytes, decodeFrame);
      // Keep only the incomplete frame's bytes (copied, so the chunk can be released).
      pending = used < bytes.length ? [Buffer.from(bytes.subarray(used))] : [];
      pendingBytes = bytes.length - used;
      return records;
    },
    end(): unknown[] {
      if (pendingBytes > 0) throw new RecordDecodingError(codec, 'the stream ends inside a frame');
      return [];
    },
  };
}
