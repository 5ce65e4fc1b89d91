/**
 * Data in and out end to end: the same job over local files and over the same bytes as
 * Azurite blobs (az:// prefixes, globs, blob URLs) gives the same answer for every split
 * size; CSV with a header reaches every byte-range split; output to az:// is committed once.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StratusError } from '../../contract/errors.js';
import { explainModule } from '../../driver/observe/explain.js';
import { seededRandom } from '../../examples/lib/generate.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { connectDriver, type E2EFabric, startE2E } from '../helpers/e2e.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');
const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
let dir: string;
let blobs: BlobStore;
const container = `inputs-${Date.now().toString(36)}`;
const texts: string[] = [];

beforeAll(async () => {
  e2e = await startE2E({ label: 'inputs' });
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-inputs-'));
  blobs = new BlobStore(connectStorage({ connectionString: e2e.fabric.connectionString }));
  await blobs.ensureContainers([container]);
  const random = seededRandom(21);
  const words = ['über', 'naïve', 'data', 'spark', 'blob', 'queue', '日本', 'x'];
  for (let f = 0; f < 3; f++) {
    const lines = Array.from({ length: 150 + 40 * f }, () =>
      Array.from({ length: Math.floor(random() * 9) }, () => words[Math.floor(random() * words.length)]).join(
        ' ',
      ),
    );
    // One file with CRLF line ends, one without a final newline.
    const text = lines.join(f === 1 ? '\r\n' : '\n') + (f === 2 ? '' : '\n');
    texts.push(text);
    await writeFile(path.join(dir, `part-${f}.txt`), text);
    await blobs.put(container, `words/part-${f}.txt`, text);
  }
});

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function referenceCounts(): { top: [string, number][]; distinct: number } {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const line of text.split(/\r?\n/)) {
      for (const w of line.toLowerCase().split(/[^\p{L}\p{N}']+/u))
        if (w) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  return {
    top: [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 6),
    distinct: counts.size,
  };
}

describe('inputs and outputs', () => {
  it('word count over local files and over the same blobs agrees with plain JS for every split size', async () => {
    const expected = referenceCounts();
    for (const splitBytes of [700, 64 * 1024]) {
      const driver = await connectDriver(e2e.fabric, {
        totalSlots: 4,
        splitBytes,
      });
      try {
        for (const input of [
          path.join(dir, 'part-*.txt'),
          `az://${container}/words/`,
          `az://${container}/words/part-*.txt`,
        ]) {
          const result = await driver.run(path.join(EXAMPLES, 'wordcount.ts'), { input, top: 6 });
          expect(result, `${input} with ${splitBytes}-byte splits`).toEqual(expected);
        }
      } finally {
        await driver.close();
      }
    }
  });

  it('a gzip file many upload blocks long is streamed to its partition blob and counted right', async () => {
    const gz = path.join(dir, 'all-words.txt.gz');
    // Level 0: the file stays about as large as the text, many 1 KiB blocks.
    const bytes = gzipSync(Buffer.from(texts.join('\n')), { level: 0 });
    expect(bytes.length).toBeGreaterThan(8 * 1024);
    await writeFile(gz, bytes);
    const driver = await connectDriver(e2e.fabric, { totalSlots: 4, uploadBlockBytes: 1024 });
    try {
      const result = await driver.run(path.join(EXAMPLES, 'wordcount.ts'), { input: gz, top: 6 });
      expect(result).toEqual(referenceCounts());
    } finally {
      await driver.close();
    }
  });

  it('a CSV with a header is parsed in every byte-range split; bad rows are skipped and counted; output goes to az://', async () => {
    const rows = ['city,amount'];
    const totals = new Map<string, number>();
    const random = seededRandom(4);
    for (let i = 0; i < 400; i++) {
      const city = ['Oslo', 'Lima', '"Quito, EC"', 'Pune'][Math.floor(random() * 4)]!;
      const amount = Math.floor(random() * 100);
      rows.push(`${city},${amount}`);
      const name = city.replace(/"/g, '');
      totals.set(name, (totals.get(name) ?? 0) + amount);
      if (i % 97 === 0) rows.push('a,b,c,d'); // a bad row: too many fields
    }
    await blobs.put(container, 'sales/sales.csv', `${rows.join('\n')}\n`);
    const report = await e2e.driver.runWithReport(path.join(JOBS, 'csv-sum.ts'), {
      input: `az://${container}/sales/sales.csv`,
      output: `az://${container}/out/totals`,
    });
    const expected = [...totals].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    expect((report.results as { totals: unknown }).totals).toEqual(expected);
    expect(report.accumulators[`badRecords:az://${container}/sales/sales.csv`]).toBe(5);
    const written = (await blobs.list(container, 'out/totals/')).map((b) => b.name).sort();
    expect(written).toEqual(['out/totals/_SUCCESS', 'out/totals/part-00000']);
    const text = (await blobs.get(container, 'out/totals/part-00000')).toString('utf8');
    expect(text).toBe(expected.map(([c, n]) => `${c},${n}\n`).join(''));
    await expect(
      e2e.driver.run(path.join(JOBS, 'csv-sum.ts'), {
        input: `az://${container}/sales/sales.csv`,
        output: `az://${container}/out/totals`,
      }),
    ).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
  });

  it('a bad CSV row fails the job at once, naming the file and the byte offset', async () => {
    const text = 'city,amount\nOslo,1\nLima,2\n"Quito,3\nPune,4\n';
    await blobs.put(container, 'bad/rows.csv', text);
    e2e.events.clear();
    const error = (await e2e.driver
      .run(path.join(JOBS, 'csv-strict.ts'), { input: `az://${container}/bad/rows.csv` })
      .catch((e: unknown) => e)) as Error;
    // The row is in the blob's second byte-range split: its task knows the byte offset, not the line.
    expect(error.message).toContain(
      `az://${container}/bad/rows.csv at byte ${text.indexOf('"Quito')} (partition 1)`,
    );
    expect(error.message).toContain('retrying cannot fix');
    // Input errors are not retried: one failed attempt.
    expect(e2e.events.of('task-end').filter((t) => t.status === 'failed')).toHaveLength(1);
  });

  it('a typed CSV source sums decimal amounts as numbers; a row whose amount is not one fails naming file, offset and column', async () => {
    const random = seededRandom(12);
    const rows = ['store,amount'];
    const cents = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const store = ['Oslo', 'Lima', 'Pune'][Math.floor(random() * 3)]!;
      const c = 100 + Math.floor(random() * 9900);
      rows.push(`${store},${(c / 100).toFixed(2)}`);
      cents.set(store, (cents.get(store) ?? 0) + c);
    }
    await blobs.put(container, 'typed/sales.csv', `${rows.join('\n')}\n`);
    const totals = (await e2e.driver.run(path.join(JOBS, 'sales-typed.ts'), {
      input: `az://${container}/typed/sales.csv`,
    })) as [string, number][];
    const inCents = totals.map(([s, n]) => [s, Math.round(n * 100)]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    expect(inCents).toEqual([...cents].sort((a, b) => (a[0] < b[0] ? -1 : 1)));

    rows.splice(200, 0, 'Quito,n/a');
    const text = `${rows.join('\n')}\n`;
    await blobs.put(container, 'typed/bad.csv', text);
    const error = (await e2e.driver
      .run(path.join(JOBS, 'sales-typed.ts'), { input: `az://${container}/typed/bad.csv` })
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(
      `az://${container}/typed/bad.csv at byte ${text.indexOf('Quito,n/a')} (partition 1): column amount: "n/a" is not a number`,
    );
  });

  it('explain lists blob inputs as the driver splits them', async () => {
    const input = `az://${container}/words/`;
    const explained = await explainModule(
      path.join(EXAMPLES, 'wordcount.ts'),
      { input },
      { slots: 4, blobs, splitBytes: 1500 },
    );
    e2e.events.clear();
    const driver = await connectDriver(e2e.fabric, {
      totalSlots: 4,
      splitBytes: 1500,
      listeners: [e2e.events],
    });
    try {
      await driver.run(path.join(EXAMPLES, 'wordcount.ts'), { input });
    } finally {
      await driver.close();
    }
    const firstStage = e2e.events.of('stage-submitted')[0]!;
    expect(explained.sources[0]!.partitions).toBe(firstStage.numTasks);
    expect(firstStage.numTasks).toBeGreaterThan(3);
  });

  it('an az:// input blob that does not exist fails before any task, naming the blob', async () => {
    e2e.events.clear();
    const input = `az://${container}/words/part-9.txt`;
    const error = (await e2e.driver
      .run(path.join(EXAMPLES, 'wordcount.ts'), { input })
      .catch((e: unknown) => e)) as StratusError;
    expect(error.code).toBe('INPUT_NOT_FOUND');
    expect(error.message).toContain(input);
    expect(e2e.events.of('job-start')).toHaveLength(0);
  });

  it('an input blob deleted between planning and running fails the job at its first attempt, naming the blob', async () => {
    await blobs.put(container, 'doomed/lines.txt', 'one line\nand another\n');
    const taskQueue = e2e.fabric.queue;
    const original = StorageQueue.prototype.send;
    let deleted = false;
    // The driver has listed and split the input; delete it before the first task message leaves.
    StorageQueue.prototype.send = async function (this: StorageQueue, text: string, visibility?: number) {
      if (this.name === taskQueue && !deleted) {
        deleted = true;
        await blobs.delete(container, 'doomed/lines.txt');
      }
      await original.call(this, text, visibility);
    };
    e2e.events.clear();
    let error: StratusError;
    try {
      error = (await e2e.driver
        .run(path.join(EXAMPLES, 'wordcount.ts'), { input: `az://${container}/doomed/lines.txt` })
        .catch((e: unknown) => e)) as StratusError;
    } finally {
      StorageQueue.prototype.send = original;
    }
    expect(deleted).toBe(true);
    expect(error.code).toBe('JOB_FAILED');
    expect(error.message).toContain(`input az://${container}/doomed/lines.txt does not exist`);
    expect(error.message).toContain('retrying cannot fix');
    // Not retried: each partition that read the blob failed once, at attempt 0 (the input is split
    // into several partitions, and those already running when the first failure ended the job
    // may fail too), and no partition was relaunched.
    const failed = e2e.events.of('task-end').filter((t) => t.status === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.every((t) => t.attempt === 0)).toBe(true);
    expect(new Set(failed.map((t) => t.partition)).size).toBe(failed.length);
    expect(e2e.events.of('task-start').every((t) => t.attempt === 0)).toBe(true);
  });

  it('a glob that matches nothing fails before any task, naming the pattern', async () => {
    await expect(
      e2e.driver.run(path.join(EXAMPLES, 'wordcount.ts'), { input: `az://${container}/nothing-*.txt` }),
    ).rejects.toThrow(/nothing-\*\.txt/);
  });
});
