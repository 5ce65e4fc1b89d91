/**
 * Issue 3's done-criterion, through the real CLI as a user runs it: word count, a join, a
 * global sort, groupByKey with a hot key and an iterative PageRank driver script, each run as
 * `stratus run <module> --json --param …` in its own process, its JSON stdout compared exactly
 * with a plain-JS reference computed over the same generated input files.
 *
 * Most runs join one `stratus local` (2 executors × 2 slots) through STRATUS_CONNECTION, as a
 * user keeps a fabric up between runs; the hot-key run starts its own embedded fabric with
 * `--local`, as `stratus run` does for a single run.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGS_CONTAINER } from '../../contract/names.js';
import { eventLogBlobName, readEventLog } from '../../driver/observe/event-log.js';
import { generateLinks, seededRandom } from '../../examples/lib/generate.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { builtFile, PACKAGE_ROOT } from '../helpers/dist.js';
import { killIfAlive, waitFor } from '../helpers/processes.js';

const QUEUE = `cli-jobs-${process.pid}`;
let local: ChildProcess | undefined;
let connection: string;
let dir: string;
const pids: number[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-cli-jobs-'));
  local = spawn(
    process.execPath,
    [builtFile('driver/cli.js'), 'local', '--executors', '2', '--slots', '2', '--queue', QUEUE],
    { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  pids.push(local.pid!);
  let out = '';
  local.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  connection = await waitFor(
    'stratus local to print its connection string and run',
    () => (out.includes('running;') ? /^storage:\s+(\S+)$/m.exec(out)?.[1] : undefined),
    60_000,
  );
  pids.push(...[...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1])));
}, 90_000);

afterAll(async () => {
  if (local && local.exitCode === null && local.signalCode === null) {
    local.kill('SIGINT');
    await waitFor(
      'stratus local to stop',
      () => local!.exitCode !== null || local!.signalCode !== null,
      30_000,
    );
  }
  killIfAlive(pids);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * `stratus run <module> --json …` in its own process, with STRATUS_CONNECTION naming the shared
 * fabric: it runs there, unless `--local` among the args starts a fabric of its own.
 */
async function stratusRun(module: string, args: string[]): Promise<unknown> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STRATUS_CONNECTION: connection,
    STRATUS_TASK_QUEUE: QUEUE,
  };
  delete env.STRATUS_ACCOUNT;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [builtFile('driver/cli.js'), 'run', module, '--json', ...args],
    { cwd: PACKAGE_ROOT, env, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 },
  ).catch((error: { message: string; stderr?: string }) => {
    throw new Error(`stratus run ${module} failed: ${error.message}\n${error.stderr ?? ''}`);
  });
  return JSON.parse(stdout);
}

/** Write `name` in the test folder; returns its path. */
async function inputFile(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

/** The lines of a file as Spark's textFile gives them: '\n' ends a line, a '\r' before it is dropped. */
async function linesOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The application id a run's local event log names. */
async function appIdOf(eventLog: string): Promise<string> {
  const [first] = await readEventLog({ file: eventLog });
  return (first as { appId: string }).appId;
}

/** Whether the shared fabric's storage holds the event log of application `appId`. */
async function sharedFabricRan(appId: string): Promise<boolean> {
  const blobs = new BlobStore(connectStorage({ connectionString: connection }));
  return (await blobs.size(LOGS_CONTAINER, eventLogBlobName(appId))) !== undefined;
}

describe('stratus run gives exactly the reference answers', () => {
  it('word count over several files', async () => {
    const random = seededRandom(101);
    const vocabulary = [
      'spark',
      'stratus',
      'Azure',
      'queue',
      'blob',
      'épée',
      "don't",
      'naïve',
      'slot',
      'task',
    ];
    const files: string[] = [];
    for (let f = 0; f < 3; f++) {
      const lines = Array.from({ length: 300 + 50 * f }, () =>
        Array.from({ length: Math.floor(random() * 9) }, () => vocabulary[Math.floor(random() * 10)]).join(
          random() < 0.3 ? ', ' : ' ',
        ),
      );
      files.push(await inputFile(`words-${f}.txt`, lines.join(f === 1 ? '\r\n' : '\n')));
    }
    const counts = new Map<string, number>();
    for (const file of files)
      for (const line of await linesOf(file))
        for (const word of line.toLowerCase().split(/[^\p{L}\p{N}']+/u))
          if (word.length > 0) counts.set(word, (counts.get(word) ?? 0) + 1);
    const all = [...counts].sort((a, b) => b[1] - a[1] || byText(a[0], b[0]));

    const result = await stratusRun('examples/wordcount.ts', [
      '--param',
      `input=${path.join(dir, 'words-*.txt')}`,
      '--param',
      `top=${counts.size + 5}`,
    ]);
    expect(result).toEqual({ top: all, distinct: counts.size });
  }, 180_000);

  it('a join of two CSV files, inner and left outer', async () => {
    const random = seededRandom(202);
    const customers = Array.from({ length: 150 }, (_, i) => ({
      id: i + 1,
      // Some names need CSV quoting; two customers share a name, so totals merge by name.
      name:
        i % 7 === 0
          ? `Smith, ${i % 14 === 0 ? 'Ann' : `Bo ${i}`}`
          : i === 3
            ? 'Dup'
            : i === 4
              ? 'Dup'
              : `c${i + 1}`,
    }));
    const orders = Array.from({ length: 2500 }, (_, i) => ({
      order: i + 1,
      // Customers 151–170 do not exist: their orders are only in the left outer join.
      customer: 1 + Math.floor(random() * 170),
      cents: Math.floor(random() * 100_000),
    }));
    const quote = (s: string) => (/[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const customersFile = await inputFile(
      'customers.csv',
      `id,name\n${customers.map((c) => `${c.id},${quote(c.name)}`).join('\n')}\n`,
    );
    const ordersFile = await inputFile(
      'orders.csv',
      `order,customer,cents\r\n${orders.map((o) => `${o.order},${o.customer},${o.cents}`).join('\r\n')}\r\n`,
    );
    const names = new Map(customers.map((c) => [c.id, c.name]));
    const totals = new Map<string, number>();
    let unknown = 0;
    for (const o of orders) {
      const name = names.get(o.customer);
      if (name === undefined) unknown++;
      else totals.set(name, (totals.get(name) ?? 0) + o.cents);
    }
    const result = await stratusRun('test/e2e/jobs/join-files.ts', [
      '--param',
      `customers=${customersFile}`,
      '--param',
      `orders=${ordersFile}`,
      '--param',
      'partitions=3',
    ]);
    expect(result).toEqual({
      totals: [...totals].sort((a, b) => byText(a[0], b[0])),
      unknownCustomerOrders: unknown,
    });
  }, 180_000);

  it('a global sort of a text file into range partitions', async () => {
    const random = seededRandom(303);
    const alphabet = 'abcXYZ09_-';
    const lines = Array.from({ length: 4000 }, (_, id) => {
      const length = 1 + Math.floor(random() * 3);
      let key = '';
      for (let c = 0; c < length; c++) key += alphabet[Math.floor(random() * alphabet.length)];
      return `${key}\t${id}`;
    });
    const file = await inputFile('sort.tsv', `${lines.join('\n')}\n`);
    const expected = (await linesOf(file))
      .map((line) => {
        const [key, id] = line.split('\t');
        return [key!, Number(id)] as [string, number];
      })
      .sort((a, b) => byText(a[0], b[0]) || a[1] - b[1]);
    const eventLog = path.join(dir, 'sort-events.jsonl');
    const result = await stratusRun('test/e2e/jobs/sort-file.ts', [
      '--event-log',
      eventLog,
      '--param',
      `input=${file}`,
      '--param',
      'partitions=4',
    ]);
    expect(result).toEqual(expected);
    // Range bounds came from a hidden sampling job, as in Spark.
    const jobs = (await readEventLog({ file: eventLog })).filter((e) => e.type === 'job-start') as {
      hidden?: boolean;
      reason?: string;
    }[];
    expect(jobs.some((j) => j.hidden && /sampling/.test(j.reason ?? ''))).toBe(true);
    // It ran on the shared `stratus local`, whose storage holds its event log.
    expect(await sharedFabricRan(await appIdOf(eventLog))).toBe(true);
  }, 180_000);

  it('groupByKey with one key holding most records, on its own fabric (--local --own-fabric) despite STRATUS_CONNECTION and the running stratus local, spilling the hot group', async () => {
    const random = seededRandom(404);
    const lines = Array.from({ length: 120_000 }, () => {
      const key = random() < 0.9 ? 'hot' : `k${Math.floor(random() * 40)}`;
      return `${key},${Math.floor(random() * 1000)}`;
    });
    const file = await inputFile('skewed.csv', `${lines.join('\n')}\n`);
    const groups = new Map<string, [number, number, number, number]>();
    for (const line of await linesOf(file)) {
      const [key, text] = line.split(',');
      const v = Number(text);
      const g = groups.get(key!) ?? [0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
      groups.set(key!, [g[0] + 1, g[1] + v, Math.min(g[2], v), Math.max(g[3], v)]);
    }
    expect(groups.get('hot')![0]).toBeGreaterThan(lines.length * 0.8);
    const eventLog = path.join(dir, 'hot-key-events.jsonl');
    const result = await stratusRun('test/e2e/jobs/hot-key-file.ts', [
      '--local',
      // --local alone would join the `stratus local` of this file, which is recorded for QUEUE.
      '--own-fabric',
      '--executors',
      '2',
      '--slots',
      '2',
      '--memory-mb',
      '1',
      '--event-log',
      eventLog,
      '--param',
      `input=${file}`,
      '--param',
      'partitions=3',
    ]);
    expect(result).toEqual([...groups].sort((a, b) => byText(a[0], b[0])));
    // The hot group (~108,000 values) did not fit the 1 MiB task budget: it was spilled, and the answer is still exact.
    const spills = (await readEventLog({ file: eventLog }))
      .filter((e) => e.type === 'task-end')
      .reduce((n, e) => n + ((e as { metrics?: { spillCount?: number } }).metrics?.spillCount ?? 0), 0);
    expect(spills).toBeGreaterThan(0);
    // `--local --own-fabric` won over STRATUS_CONNECTION and the record: the shared fabric never saw it.
    expect(await sharedFabricRan(await appIdOf(eventLog))).toBe(false);
  }, 180_000);

  it('an iterative PageRank driver script converges to the reference ranks', async () => {
    const pages = 60;
    const edges = generateLinks(pages, 6, 9);
    const file = await inputFile('links.txt', `${edges.map(([s, d]) => `${s} ${d}`).join('\n')}\n`);
    // 2 % of a page's initial rank: nine iterations on this graph.
    const tolerance = 20_000;
    const maxIterations = 30;
    // Reference: the same fixed-point iteration in plain JS, over the file's lines.
    const SCALE = 1_000_000;
    const links = new Map<number, number[]>();
    for (const line of await linesOf(file)) {
      const [s, d] = line.split(' ').map(Number);
      links.set(s!, [...(links.get(s!) ?? []), d!]);
    }
    let ranks = new Map<number, number>([...links.keys()].map((page) => [page, SCALE]));
    let iterations = 0;
    let converged = false;
    for (let i = 1; i <= maxIterations && !converged; i++) {
      const sums = new Map<number, number>();
      for (const [page, targets] of links) {
        const rank = ranks.get(page);
        if (rank === undefined) continue;
        for (const t of targets) sums.set(t, (sums.get(t) ?? 0) + Math.floor(rank / targets.length));
      }
      const next = new Map([...sums].map(([p, s]) => [p, 150_000 + Math.floor((85 * s) / 100)]));
      const delta = Math.max(
        0,
        ...[...next].map(([p, r]) => Math.abs(r - (i === 1 ? 0 : (ranks.get(p) ?? 0)))),
      );
      ranks = next;
      iterations = i;
      converged = delta <= tolerance;
    }
    expect(converged).toBe(true);
    expect(iterations).toBeGreaterThan(2);

    const result = await stratusRun('test/e2e/jobs/pagerank-file-driver.ts', [
      '--param',
      `links=${file}`,
      '--param',
      `tolerance=${tolerance}`,
      '--param',
      `maxIterations=${maxIterations}`,
      '--param',
      'partitions=3',
    ]);
    expect(result).toEqual({ iterations, converged, ranks: [...ranks].sort((a, b) => a[0] - b[0]) });
  }, 180_000);
});
