/**
 * binaryFiles' bytes crossing the record codec on real executors: persisted partitions of
 * [path, Uint8Array] records (in blobs, or in executor memory) and a shuffle of Uint8Array
 * values give plain JS's answer. This needs the binary record encoding (Uint8Array support in
 * engine/records/codec.ts); with a codec that does not carry Uint8Array the tasks fail with
 * RECORD_NOT_ENCODABLE. (binaryFiles without the codec — bytes mapped to plain values inside
 * the stage — is covered by persistence.test.ts.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
let dir: string;
const files = new Map<string, Buffer>();

beforeAll(async () => {
  e2e = await startE2E({ label: 'binary', executors: 2, slots: 2 });
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-binary-files-'));
  // Every byte value, an empty file, and files that share an extension.
  const contents: [string, Buffer][] = [
    ['all.bin', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
    ['empty.bin', Buffer.alloc(0)],
    ['newlines.dat', Buffer.from([10, 13, 10, 0, 255, 10])],
    ['text.dat', Buffer.from('naïve 日本\n')],
    ['zeros.bin', Buffer.alloc(3000)],
  ];
  for (const [name, bytes] of contents) {
    await writeFile(path.join(dir, name), bytes);
    files.set(path.join(dir, name), bytes);
  }
});

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function reference() {
  const byExtension = new Map<string, string[]>();
  for (const [file, bytes] of files) {
    const ext = file.slice(file.lastIndexOf('.') + 1);
    byExtension.set(ext, [...(byExtension.get(ext) ?? []), bytes.toString('hex')]);
  }
  return {
    sizes: [...files].map(([file, bytes]) => [file, bytes.length]),
    byExtension: [...byExtension].map(([ext, all]) => [ext, all.sort()]).sort(),
  };
}

describe('binaryFiles through the record codec', () => {
  for (const level of ['blob', 'memory'] as const) {
    it(`persist('${level}') of [path, bytes] records and a shuffle of the bytes equal plain JS`, async () => {
      e2e.events.clear();
      const result = (await e2e.driver.run(path.join(JOBS, 'binary-records.ts'), {
        input: path.join(dir, '*'),
        level,
      })) as { sizes: [string, number][]; byExtension: [string, string[]][] };
      expect({ sizes: result.sizes, byExtension: [...result.byExtension].sort() }).toEqual(reference());
      // The second job reads the persisted partitions instead of reading the files again.
      const second = e2e.events.of('job-start')[1]!;
      expect(second.plan).toContain(level === 'blob' ? '[cached]' : `[persisted: ${level}]`);
    });
  }
});
