/**
 * Seeded bench inputs, generated once into a temp folder and reused by later runs (the file
 * name carries size and seed; a file is written under a `.partial` name and renamed when whole):
 * - text for word count: Zipf-like words from a seeded vocabulary, mixed case and punctuation;
 * - sort records: 100 bytes each — a 10-byte key, an 89-byte payload and '\n'.
 */

import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where generated inputs live between runs. */
export const DATA_DIR = process.env.STRATUS_BENCH_DATA ?? path.join(tmpdir(), 'stratus-bench-data');

/** mulberry32: a small seeded generator of 32-bit integers. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

async function writeChunks(file: string, fill: (write: (chunk: Buffer) => Promise<void>) => Promise<void>) {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  const out = createWriteStream(partial);
  const write = async (chunk: Buffer) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  await fill(write);
  out.end();
  await once(out, 'finish');
  await rename(partial, file);
}

/** A text file of `bytes` (± one line) for word count; returns its path (reused when present). */
export async function wordCountText(megabytes: number, seed = 7): Promise<string> {
  const file = path.join(DATA_DIR, `words-${megabytes}mb-seed${seed}.txt`);
  if (existsSync(file)) return file;
  const next = generator(seed);
  const letters = 'abcdefghijklmnopqrstuvwxyzéü';
  const vocabulary: string[] = [];
  for (let i = 0; i < 50_000; i++) {
    const length = 2 + (next() % 9);
    let word = '';
    for (let c = 0; c < length; c++) word += letters[next() % letters.length];
    vocabulary.push(word);
  }
  const punctuation = [' ', ' ', ' ', ' ', ', ', '. ', '; ', ' — ', " '", ': '];
  const target = megabytes * 1024 * 1024;
  await writeChunks(file, async (write) => {
    let written = 0;
    while (written < target) {
      const lines: string[] = [];
      for (let l = 0; l < 2000; l++) {
        const words = 6 + (next() % 12);
        let line = '';
        for (let w = 0; w < words; w++) {
          // Zipf-like: small indices are much more frequent.
          const u = next() / 4294967296;
          let word = vocabulary[Math.floor(vocabulary.length * u * u * u)]!;
          if (next() % 7 === 0) word = word[0]!.toUpperCase() + word.slice(1);
          line += word + punctuation[next() % punctuation.length];
        }
        lines.push(line.trimEnd());
      }
      const chunk = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
      written += chunk.length;
      await write(chunk);
    }
  });
  return file;
}

/** Size in bytes of one sort record (key + payload + newline). */
export const SORT_RECORD_BYTES = 100;
const KEY_ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');

/** An order-independent checksum of records: count, sum and xor of each record's FNV-1a hash. */
export interface RecordChecksum {
  records: number;
  sum: number;
  xor: number;
}

/** Adds records (lines without their newline) to a checksum. */
export class ChecksumBuilder {
  records = 0;
  private sum = 0;
  private xor = 0;

  /** Add the record in bytes [start, end) of `buf` (excluding the newline). */
  add(buf: Uint8Array, start: number, end: number): void {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h >>>= 0;
    this.sum = (this.sum + h) % 2 ** 48;
    this.xor = (this.xor ^ h) >>> 0;
    this.records++;
  }

  result(): RecordChecksum {
    return { records: this.records, sum: this.sum, xor: this.xor };
  }
}

/** The sort input of `megabytes` MiB (100-byte records, seeded) and its checksum; reused when present. */
export async function sortRecordsFile(
  megabytes: number,
  seed = 42,
): Promise<{ file: string; records: number; checksum: RecordChecksum }> {
  const file = path.join(DATA_DIR, `sort-${megabytes}mb-seed${seed}.txt`);
  const sumFile = `${file}.checksum.json`;
  if (existsSync(file) && existsSync(sumFile)) {
    const checksum = JSON.parse(await readFile(sumFile, 'utf8')) as RecordChecksum;
    return { file, records: checksum.records, checksum };
  }
  const records = Math.floor((megabytes * 1024 * 1024) / SORT_RECORD_BYTES);
  const next = generator(seed);
  const checksum = new ChecksumBuilder();
  const perChunk = 10_000;
  await writeChunks(file, async (write) => {
    for (let first = 0; first < records; first += perChunk) {
      const n = Math.min(perChunk, records - first);
      const chunk = Buffer.allocUnsafe(n * SORT_RECORD_BYTES);
      for (let r = 0; r < n; r++) {
        const at = r * SORT_RECORD_BYTES;
        for (let c = 0; c < 10; c++) chunk[at + c] = KEY_ALPHABET[next() % KEY_ALPHABET.length]!;
        // Payload: the record's index (12 digits) then filler derived from it; 89 bytes.
        chunk.write(String(first + r).padStart(12, '0'), at + 10, 'latin1');
        const fill = 0x61 + ((first + r) % 26);
        chunk.fill(fill, at + 22, at + 99);
        chunk[at + 99] = 0x0a;
        checksum.add(chunk, at, at + 99);
      }
      await write(chunk);
    }
  });
  await writeFile(sumFile, JSON.stringify(checksum.result()));
  return { file, records, checksum: checksum.result() };
}
