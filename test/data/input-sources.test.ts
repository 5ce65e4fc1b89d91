/**
 * Input resolution: blob addresses and globs, how many splits an input gets, local files
 * uploaded as partition blobs, and — the "done when" in miniature — the same lines
 * from a local file and from the same bytes in a blob, for any split size.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../contract/names.js';
import {
  globToRegExp,
  type InputSplit,
  localInputPath,
  parseBlobLocation,
  planByteSplits,
  readCsvColumns,
  resolveInput,
  resolveSourceInput,
} from '../../driver/data/input-sources.js';
import { SPLIT_SLOP, type UploadProgress } from '../../driver/data/input-splitter.js';
import type { SourceNodeInfo } from '../../engine/plan/source-node.js';
import { csvFormatOf } from '../../engine/records/csv.js';
import { splitLines } from '../../engine/records/text.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { readSplit } from '../../storage/split-reader.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { fileContentArb, uniqueName } from './arbitraries.js';

const CONTAINER = `inputs-${process.pid}`;
const SCOPE = `inputs-test-${process.pid}/run-0`;
let blobs: BlobStore;
let dir: string;

beforeAll(async () => {
  blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
  await blobs.ensureContainers([CONTAINER, DATA_CONTAINER]);
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-inputs-'));
});

afterAll(async () => {
  await blobs.deletePrefix(CONTAINER, '');
  await blobs.deletePrefix(DATA_CONTAINER, `apps/inputs-test-${process.pid}/`);
  await rm(dir, { recursive: true, force: true });
});

async function linesOf(splits: readonly InputSplit[]): Promise<string[]> {
  const lines: string[] = [];
  for (const split of splits) {
    const chunks: Buffer[] = [];
    for await (const c of readSplit(blobs, split)) chunks.push(c);
    lines.push(...splitLines(Buffer.concat(chunks).toString('utf8')));
  }
  return lines;
}

/** `n` reproducible pseudo-random bytes (incompressible, so gzip level 0 keeps the size). */
function seededBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

let nodeCounter = 0;
const upload = () => ({ scope: SCOPE, nodeId: nodeCounter++ });

describe('blob addresses', () => {
  it('parses az://, account URLs and Azurite path-style URLs', () => {
    expect(parseBlobLocation('az://logs/2024/*.txt')).toEqual({ container: 'logs', pattern: '2024/*.txt' });
    expect(parseBlobLocation('az://logs')).toEqual({ container: 'logs', pattern: '' });
    expect(parseBlobLocation('https://acct.blob.core.windows.net/data/a%20b/x.csv')).toEqual({
      container: 'data',
      pattern: 'a b/x.csv',
      account: 'acct',
    });
    expect(parseBlobLocation('http://127.0.0.1:10000/devstoreaccount1/data/in/*.json?')).toEqual({
      container: 'data',
      pattern: 'in/*.json?',
      account: 'devstoreaccount1',
    });
    expect(parseBlobLocation('https://acct.blob.core.windows.net/data/x.csv?sv=1&sig=abc')).toMatchObject({
      pattern: 'x.csv',
    });
    expect(parseBlobLocation('data/*.txt')).toBeUndefined();
    expect(parseBlobLocation('/abs/file.txt')).toBeUndefined();
  });

  it('matches blob-name globs segment by segment', () => {
    const m = (glob: string, name: string) => globToRegExp(glob).test(name);
    expect(m('logs/*.txt', 'logs/a.txt')).toBe(true);
    expect(m('logs/*.txt', 'logs/sub/a.txt')).toBe(false);
    expect(m('logs/**/*.txt', 'logs/sub/deep/a.txt')).toBe(true);
    expect(m('logs/**/*.txt', 'logs/a.txt')).toBe(true);
    expect(m('part-0000?', 'part-00003')).toBe(true);
    expect(m('x[0-2].csv', 'x1.csv')).toBe(true);
    expect(m('x[!0-2].csv', 'x1.csv')).toBe(false);
    expect(m('{a,b}.csv', 'b.csv')).toBe(true);
    expect(m('a.b+c(1).txt', 'a.b+c(1).txt')).toBe(true);
    expect(m('a.b', 'axb')).toBe(false);
  });
});

describe('how many splits an input gets', () => {
  const filesArb = fc.array(
    fc.record({
      size: fc.integer({ min: 0, max: 5000 }),
      gzip: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    }),
    { maxLength: 6 },
  );

  it('covers every non-empty file exactly, in order, with at least minPartitions splits when the bytes allow', () => {
    fc.assert(
      fc.property(
        filesArb,
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 3000 }),
        (files, minPartitions, splitBytes) => {
          const splits = planByteSplits(files, minPartitions, splitBytes);
          for (const [i, f] of files.entries()) {
            const mine = splits.filter((s) => s.file === i);
            if (f.size === 0) expect(mine).toEqual([]);
            else if (f.gzip) expect(mine).toEqual([{ file: i, start: 0, end: f.size }]);
            else {
              expect(mine[0]!.start).toBe(0);
              expect(mine.at(-1)!.end).toBe(f.size);
              for (let k = 1; k < mine.length; k++) expect(mine[k]!.start).toBe(mine[k - 1]!.end);
              for (const s of mine)
                expect(s.end - s.start).toBeLessThanOrEqual(Math.ceil(splitBytes * SPLIT_SLOP));
            }
          }
          const splittable = files.reduce((n, f) => (f.gzip ? n : n + f.size), 0);
          if (splittable >= minPartitions) expect(splits.length).toBeGreaterThanOrEqual(minPartitions);
          expect(splits.map((s) => s.file)).toEqual([...splits.map((s) => s.file)].sort((a, b) => a - b));
        },
      ),
    );
  });

  it('a last piece within 10 % of the split size is not cut off', () => {
    expect(planByteSplits([{ size: 105, gzip: false }], 1, 100)).toEqual([{ file: 0, start: 0, end: 105 }]);
    expect(planByteSplits([{ size: 111, gzip: false }], 1, 100)).toHaveLength(2);
    // …unless that would give fewer splits than minPartitions.
    expect(planByteSplits([{ size: 21, gzip: false }], 2, 100)).toHaveLength(2);
  });
});

describe('blob inputs', () => {
  const prefix = uniqueName('set');
  const put = (name: string, body: string | Buffer) => blobs.put(CONTAINER, `${prefix}/${name}`, body);

  beforeAll(async () => {
    await Promise.all([
      put('a.txt', 'a1\na2\n'),
      put('b.txt', 'b1\r\nb2'),
      put('c.txt.gz', gzipSync(Buffer.from('c1\nc2\n'))),
      put('empty.txt', ''),
      put('_SUCCESS', ''),
      put('sub/d.txt', 'd1\n'),
    ]);
  });

  const base = { minPartitions: 1, splitBytes: 3 } as const;

  it('a prefix reads its blobs in name order, skipping hidden ones, gzip whole', async () => {
    const splits = await resolveInput(`az://${CONTAINER}/${prefix}`, { ...base, blobs });
    expect(splits.filter((s) => s.gzip).map((s) => s.blob)).toEqual([`${prefix}/c.txt.gz`]);
    expect(splits.every((s) => !s.blob.endsWith('_SUCCESS') && !s.blob.endsWith('empty.txt'))).toBe(true);
    expect(splits.filter((s) => s.blob.endsWith('a.txt')).length).toBeGreaterThan(1);
    expect(await linesOf(splits)).toEqual(['a1', 'a2', 'b1', 'b2', 'c1', 'c2', 'd1']);
  });

  it('a glob, a single blob, an account URL and an Azurite URL resolve to the same blobs', async () => {
    const glob = await resolveInput(`az://${CONTAINER}/${prefix}/*.txt`, { ...base, blobs });
    expect(await linesOf(glob)).toEqual(['a1', 'a2', 'b1', 'b2']);
    const one = await resolveInput(`az://${CONTAINER}/${prefix}/b.txt`, { ...base, blobs });
    expect(one.map((s) => [s.start, s.end, s.fileSize, s.source])).toEqual([
      [0, 3, 6, `az://${CONTAINER}/${prefix}/b.txt`],
      [3, 6, 6, `az://${CONTAINER}/${prefix}/b.txt`],
    ]);
    const https = await resolveInput(
      `https://devstoreaccount1.blob.core.windows.net/${CONTAINER}/${prefix}/b.txt`,
      { ...base, blobs, accountName: 'devstoreaccount1' },
    );
    expect(https).toEqual(one);
    const azurite = await resolveInput(
      `http://127.0.0.1:10000/devstoreaccount1/${CONTAINER}/${prefix}/*.txt`,
      {
        ...base,
        blobs,
      },
    );
    expect(azurite).toEqual(glob);
  });

  it('a URL naming another storage account is refused', async () => {
    await expect(
      resolveInput(`https://other.blob.core.windows.net/${CONTAINER}/x`, {
        ...base,
        blobs,
        accountName: 'mine',
      }),
    ).rejects.toThrow(/account other.*connected to mine/);
  });

  it('a pattern matching nothing is an error naming it; empty blobs alone give no split', async () => {
    await expect(resolveInput(`az://${CONTAINER}/${prefix}/*.csv`, { ...base, blobs })).rejects.toMatchObject(
      {
        code: 'INPUT_NOT_FOUND',
        message: expect.stringContaining(`${prefix}/*.csv`),
      },
    );
    await expect(
      resolveInput(`az://no-such-container-${process.pid}/x`, { ...base, blobs }),
    ).rejects.toMatchObject({
      code: 'INPUT_NOT_FOUND',
    });
    expect(await resolveInput(`az://${CONTAINER}/${prefix}/empty.txt`, { ...base, blobs })).toEqual([]);
  });
});

describe('local inputs', () => {
  it('are cut on line boundaries into partition blobs, with byte progress, minPartitions honoured', async () => {
    const file = path.join(dir, 'lines.txt');
    const text = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n');
    await writeFile(file, text);
    const progress: UploadProgress[] = [];
    const splits = await resolveInput(file, {
      minPartitions: 7,
      blobs,
      upload: { ...upload(), onProgress: (p) => progress.push(p) },
    });
    expect(splits.length).toBeGreaterThanOrEqual(7);
    expect(splits.every((s) => s.container === DATA_CONTAINER && s.start === 0 && s.source === file)).toBe(
      true,
    );
    expect(splits.map((s) => s.sourceOffset)).toEqual(
      splits.map((_, i) => splits.slice(0, i).reduce((n, s) => n + s.fileSize, 0)),
    );
    expect(progress.at(-1)).toEqual({
      bytesUploaded: Buffer.byteLength(text),
      totalBytes: Buffer.byteLength(text),
      partitionsUploaded: splits.length,
      totalPartitions: splits.length,
    });
    expect(await linesOf(splits)).toEqual(splitLines(text));
  });

  it('are streamed to their blobs in blocks: a split larger than many blocks arrives byte for byte, its lines counted', async () => {
    const blockBytes = 64 * 1024;
    // Incompressible gzip (one whole-file split) and a text file cut into two large splits.
    const random = seededBytes(5 * blockBytes + 123);
    const gz = path.join(dir, 'big.bin.gz');
    await writeFile(gz, gzipSync(random, { level: 0 }));
    const text = Array.from({ length: 40_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 17)}`).join('\n');
    const txt = path.join(dir, 'big.txt');
    await writeFile(txt, text);
    const progress: UploadProgress[] = [];
    const splits = await resolveInput(path.join(dir, 'big.*'), {
      minPartitions: 1,
      splitBytes: Math.ceil(Buffer.byteLength(text) / 2),
      blobs,
      upload: { ...upload(), blockBytes, onProgress: (p) => progress.push(p) },
    });
    expect(splits.map((s) => path.basename(s.source!))).toEqual(['big.bin.gz', 'big.txt', 'big.txt']);
    const service = connectStorage({ connectionString: suiteConnectionString() }).blobService;
    for (const split of splits) {
      const blob = await blobs.get(DATA_CONTAINER, split.blob);
      const file = await readFile(split.source!);
      expect(blob.equals(file.subarray(split.sourceOffset, split.sourceOffset! + split.fileSize!))).toBe(
        true,
      );
      // Staged block by block: no request, and no buffer of the driver, held the whole split.
      const { committedBlocks = [] } = await service
        .getContainerClient(DATA_CONTAINER)
        .getBlockBlobClient(split.blob)
        .getBlockList('committed');
      expect(committedBlocks.length).toBeGreaterThanOrEqual(Math.ceil(split.fileSize! / blockBytes));
      expect(committedBlocks.every((b) => b.size <= blockBytes)).toBe(true);
    }
    // The second split of big.txt starts at the line after the first split's last one.
    const secondLine = text.slice(0, splits[2]!.sourceOffset).split('\n').length;
    expect(splits.map((s) => s.sourceLine)).toEqual([1, 1, secondLine]);
    expect(secondLine).toBeGreaterThan(1);
    expect(await linesOf(splits.slice(1))).toEqual(splitLines(text));
    // Progress as bytes are read, not only when a whole split is done.
    const total = splits.reduce((n, s) => n + s.fileSize!, 0);
    expect(progress.filter((p) => p.partitionsUploaded === 0).length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({
      bytesUploaded: total,
      totalBytes: total,
      partitionsUploaded: 3,
      totalPartitions: 3,
    });
  });

  it('a gzip file is one partition uploaded as is; an empty file gives none; a folder means its files', async () => {
    const folder = path.join(dir, 'folder');
    await mkdir(folder);
    await writeFile(path.join(folder, 'a.txt.gz'), gzipSync(Buffer.from('x\ny\n')));
    await writeFile(path.join(folder, 'b.txt'), '');
    await writeFile(path.join(folder, '_SUCCESS'), '');
    const splits = await resolveInput(folder, { minPartitions: 4, blobs, upload: upload() });
    expect(splits).toHaveLength(1);
    expect(splits[0]).toMatchObject({ gzip: true, source: path.join(folder, 'a.txt.gz') });
    expect(await linesOf(splits)).toEqual(['x', 'y']);
    expect(
      await resolveInput(path.join(folder, 'b.txt'), { minPartitions: 2, blobs, upload: upload() }),
    ).toEqual([]);
  });

  it('a file:// URL is percent-decoded: a folder with a space in its name, as a file and as a glob', async () => {
    const folder = path.join(dir, 'my data #1');
    await mkdir(folder);
    const text = 'first line\nsecond line\n';
    await writeFile(path.join(folder, 'a b.txt'), text);
    await writeFile(path.join(folder, 'c.txt'), 'third\n');
    const fileUrl = pathToFileURL(path.join(folder, 'a b.txt')).href;
    expect(fileUrl).toContain('%20');
    const one = await resolveInput(fileUrl, { minPartitions: 1, blobs, upload: upload() });
    expect(one.map((s) => s.source)).toEqual([path.join(folder, 'a b.txt')]);
    expect(await linesOf(one)).toEqual(splitLines(text));
    const glob = `${pathToFileURL(folder).href}/*.txt`;
    const all = await resolveInput(glob, { minPartitions: 1, blobs, upload: upload() });
    expect(all.map((s) => s.source)).toEqual([path.join(folder, 'a b.txt'), path.join(folder, 'c.txt')]);
    expect(await linesOf(all)).toEqual([...splitLines(text), 'third']);
  });

  it('localInputPath keeps a raw ? (a glob character) in the path and refuses another host', () => {
    expect(localInputPath('file:///data/part-?.txt')).toBe('/data/part-?.txt');
    expect(localInputPath('file:///data/with%20space/a%23b.txt')).toBe('/data/with space/a#b.txt');
    expect(localInputPath('data/plain path.txt')).toBe('data/plain path.txt');
    expect(() => localInputPath('file://elsewhere/data/a.txt')).toThrow(/not a local file URL/);
  });

  it('a glob matching nothing is an error naming the pattern', async () => {
    await expect(
      resolveInput(path.join(dir, 'nothing-*.txt'), { minPartitions: 1, blobs, upload: upload() }),
    ).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND', message: expect.stringContaining('nothing-*.txt') });
  });
});

describe('the same input, local or in blobs', () => {
  it('gives the same lines for every split size', async () => {
    await fc.assert(
      fc.asyncProperty(fileContentArb, fc.integer({ min: 1, max: 60 }), async (text, splitBytes) => {
        const name = uniqueName('same');
        const file = path.join(dir, `${name}.txt`);
        await writeFile(file, text);
        await blobs.put(CONTAINER, `${name}.txt`, text);
        const local = await resolveInput(file, { minPartitions: 1, splitBytes, blobs, upload: upload() });
        const remote = await resolveInput(`az://${CONTAINER}/${name}.txt`, {
          minPartitions: 1,
          splitBytes,
          blobs,
        });
        const reference = splitLines(text);
        expect(await linesOf(local)).toEqual(reference);
        expect(await linesOf(remote)).toEqual(reference);
      }),
      { numRuns: 15 },
    );
  });
});

describe('CSV headers', () => {
  const source = (uri: string, header = true): SourceNodeInfo => ({
    nodeId: 0,
    kind: 'csv',
    uri,
    minPartitions: 1,
    csv: csvFormatOf(uri, { header }),
  });

  it('the driver reads the columns once from the first file and gives them to every split', async () => {
    const name = uniqueName('csv');
    await blobs.put(CONTAINER, `${name}/1.csv`, '\ufeffid,"full name"\r\n1,ann\r\n2,bob\r\n');
    await blobs.put(CONTAINER, `${name}/2.csv`, 'id,full name\n3,cy\n');
    const uri = `az://${CONTAINER}/${name}`;
    const parts = await resolveSourceInput(source(uri), { blobs, splitBytes: 8 });
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.every((p) => p.length === 1 && p[0]!.columns?.join('|') === 'id|full name')).toBe(true);
    const noHeader = await resolveSourceInput(source(uri, false), { blobs, splitBytes: 8 });
    expect(noHeader.every((p) => p[0]!.columns === undefined)).toBe(true);
  });

  it('a multiLine CSV source is read in whole files, local or in blobs', async () => {
    const name = uniqueName('multi');
    const text = 'a,b\n1,"x\ny"\n2,z\n';
    await blobs.put(CONTAINER, `${name}.csv`, text);
    const file = path.join(dir, `${name}.csv`);
    await writeFile(file, text);
    const multi = (uri: string): SourceNodeInfo => ({
      ...source(uri),
      csv: csvFormatOf(uri, { header: true, multiLine: true }),
    });
    for (const uri of [`az://${CONTAINER}/${name}.csv`, file]) {
      const parts = await resolveSourceInput(multi(uri), { blobs, splitBytes: 2, upload: upload() });
      expect(parts.map((p) => p.map((s) => [s.sourceOffset, s.end - s.start]))).toEqual([[[0, text.length]]]);
      expect(parts[0]![0]!.columns).toEqual(['a', 'b']);
    }
  });

  it('takes the first non-empty line of a file beginning with empty lines as its header, local or in blobs', async () => {
    const name = uniqueName('blank-header');
    const text = '\r\n\n\nid,"full name"\n1,ann\n';
    await blobs.put(CONTAINER, `${name}.csv`, text);
    const file = path.join(dir, `${name}.csv`);
    await writeFile(file, text);
    for (const uri of [`az://${CONTAINER}/${name}.csv`, file]) {
      const parts = await resolveSourceInput(source(uri), { blobs, upload: upload() });
      expect(parts.map((p) => p[0]!.columns)).toEqual([['id', 'full name']]);
    }
  });

  it('reads the header of a local file (gzip too) before upload', async () => {
    const file = path.join(dir, 'people.csv.gz');
    await writeFile(file, gzipSync(Buffer.from('a;b\n1;2\n')));
    const src: SourceNodeInfo = { ...source(file), csv: csvFormatOf(file, { header: true, delimiter: ';' }) };
    const splits = await resolveInput(file, { minPartitions: 1, blobs, upload: upload() });
    expect(await readCsvColumns(src, splits, blobs)).toEqual(['a', 'b']);
  });
});
