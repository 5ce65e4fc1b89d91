/**
 * Job bundles are cached on disk by hash and shared by the threads of an instance: a valid
 * cached copy is loaded without fetching, an altered one is replaced by a verified download,
 * and a download that does not match its hash is never loaded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJobBundle } from '../../engine/plan/module-loader.js';
import { builtFile } from '../helpers/dist.js';

let cacheDir: string;
const previousCache = process.env.STRATUS_CODE_CACHE;

beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'stratus-code-cache-test-'));
  process.env.STRATUS_CODE_CACHE = cacheDir;
});

afterAll(async () => {
  if (previousCache === undefined) delete process.env.STRATUS_CODE_CACHE;
  else process.env.STRATUS_CODE_CACHE = previousCache;
  await rm(cacheDir, { recursive: true, force: true });
});

/** A minimal bundle whose default export is a job definition carrying `tag`; unique per call. */
function bundle(tag: string): { code: string; hash: string } {
  const code = `// ${randomBytes(8).toString('hex')}\nexport default { kind: 'stratus-job', builder: () => null, tag: ${JSON.stringify(tag)} };\n`;
  return { code, hash: createHash('sha256').update(code).digest('hex') };
}

/** A fetcher that counts its calls. */
function counting(code: string): { fetch: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    fetch: async () => {
      calls++;
      return code;
    },
    calls: () => calls,
  };
}

const tagOf = (definition: unknown) => (definition as { tag?: string }).tag;

describe('job bundle cache', () => {
  it('a bundle already in the instance cache folder is loaded without fetching it', async () => {
    const { code, hash } = bundle('cached');
    await writeFile(path.join(cacheDir, `${hash}.mjs`), code);
    const fetcher = counting(code);
    expect(tagOf(await loadJobBundle(hash, fetcher.fetch))).toBe('cached');
    expect(fetcher.calls()).toBe(0);
  });

  it('a cached file whose bytes do not match its hash is replaced by a fetched, verified copy', async () => {
    const good = bundle('good');
    const file = path.join(cacheDir, `${good.hash}.mjs`);
    await writeFile(file, bundle('altered').code);
    const fetcher = counting(good.code);
    expect(tagOf(await loadJobBundle(good.hash, fetcher.fetch))).toBe('good');
    expect(fetcher.calls()).toBe(1);
    expect(await readFile(file, 'utf8')).toBe(good.code);
  });

  it('a fetched bundle that does not match its hash is refused and not cached', async () => {
    const { hash } = bundle('expected');
    const fetcher = counting(bundle('other').code);
    await expect(loadJobBundle(hash, fetcher.fetch)).rejects.toMatchObject({ code: 'BUNDLE_HASH_MISMATCH' });
    expect(existsSync(path.join(cacheDir, `${hash}.mjs`))).toBe(false);
  });

  it('another thread of the instance loads a bundle this thread fetched without fetching it again', async () => {
    const { code, hash } = bundle('shared');
    const fetcher = counting(code);
    expect(tagOf(await loadJobBundle(hash, fetcher.fetch))).toBe('shared');
    expect(fetcher.calls()).toBe(1);
    // A fresh thread, as an executor's next task thread: its fetcher would fail the load.
    const loaderUrl = pathToFileURL(builtFile('engine/plan/module-loader.js')).href;
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import(workerData.loaderUrl)
         .then((m) => m.loadJobBundle(workerData.hash, async () => { throw new Error('fetched again'); }))
         .then((d) => parentPort.postMessage({ tag: d.tag }), (e) => parentPort.postMessage({ error: String(e) }));`,
      { eval: true, workerData: { loaderUrl, hash }, env: { ...process.env, STRATUS_CODE_CACHE: cacheDir } },
    );
    try {
      const reply = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(reply).toEqual({ tag: 'shared' });
    } finally {
      await worker.terminate();
    }
  });
});
