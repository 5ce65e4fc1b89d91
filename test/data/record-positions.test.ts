/**
 * Where a record is in its file: lineBatches tracks the byte offset of every line from the raw
 * bytes (BOM, '\r\n' and multi-byte characters included) and its line number when the split's
 * first line is known, whatever the chunking. Reference: line starts found by scanning the
 * file's bytes for '\n' in plain JS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineBatches, type RecordPosition, recordPosition } from '../../engine/records/record-formats.js';
import { fileContentArb } from './arbitraries.js';

/** Byte offsets where the file's lines start (a final '\n' starts no line). */
function lineStarts(bytes: Buffer): number[] {
  const starts = bytes.length > 0 ? [0] : [];
  for (let i = 0; i < bytes.length - 1; i++) if (bytes[i] === 0x0a) starts.push(i + 1);
  return starts;
}

/** `bytes` cut at the given (sorted, deduplicated) fractions. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to > from) out.push(bytes.subarray(from, to));
    from = Math.max(from, to);
  }
  return out;
}

async function positionsOf(items: unknown[]): Promise<RecordPosition[]> {
  const out: RecordPosition[] = [];
  async function* source() {
    yield* items;
  }
  for await (const batch of lineBatches(source(), 'f.txt', () => undefined))
    for (let i = 0; i < batch.lines.length; i++) out.push(recordPosition(batch, i));
  return out;
}

const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 });

describe('record positions', () => {
  it('a whole file read in any chunks gives every line its byte offset and line number', async () => {
    await fc.assert(
      fc.asyncProperty(fileContentArb, fc.boolean(), cutsArb, async (content, bom, cuts) => {
        const bytes = Buffer.from(`${bom ? '\ufeff' : ''}${content}`, 'utf8');
        // A file of only a BOM has no lines, like an empty one.
        const expected = (content.length === 0 ? [] : lineStarts(bytes)).map((byteOffset, i) => ({
          file: 'f.txt',
          byteOffset,
          line: i + 1,
        }));
        expect(await positionsOf(chunked(bytes, cuts))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('a split starting at a later record gives file offsets, and line numbers only when its first line is known', async () => {
    await fc.assert(
      fc.asyncProperty(
        fileContentArb.filter((t) => t.includes('\n')),
        fc.nat(),
        fc.boolean(),
        cutsArb,
        async (content, pick, lineKnown, cuts) => {
          const bytes = Buffer.from(content, 'utf8');
          const starts = lineStarts(bytes);
          const k = pick % starts.length;
          const recordsStart = starts[k]!;
          // The split itself may begin anywhere in the record before (the reader skips to recordsStart).
          const offset = k === 0 ? 0 : starts[k - 1]! + 1;
          const marker = {
            kind: 'split-start',
            file: 'az://c/f.txt',
            offset,
            recordsStart,
            ...(lineKnown ? { firstLine: k + 1 } : {}),
          };
          const expected = starts.slice(k).map((byteOffset, i) => ({
            file: 'az://c/f.txt',
            byteOffset,
            line: lineKnown || offset === 0 ? k + i + 1 : undefined,
          }));
          expect(await positionsOf([marker, ...chunked(bytes.subarray(recordsStart), cuts)])).toEqual(
            expected,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ready-made line strings have no byte offset', async () => {
    expect(await positionsOf(['a', 'b'])).toEqual([
      { file: 'f.txt', byteOffset: undefined, line: 1 },
      { file: 'f.txt', byteOffset: undefined, line: 2 },
    ]);
  });
});
