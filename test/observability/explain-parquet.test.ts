/**
 * `stratus explain` plans Parquet scans as a run does (issue 14): the same footers, row-group
 * splits, columns read, scan sizes and broadcast decisions, with nothing uploaded. Each case
 * explains a job module, then runs it on a local fabric (real executors, Azurite) and compares:
 * the stages of every job with their partitions (job-start events), the run's notice for every
 * Parquet scan, and the size the run's df.explain() prints for the broadcast side. Sizes and
 * skipped row groups are also checked against DuckDB's parquet_metadata over the same files.
 * Local files and az:// blobs (read by range through the BlobStore explain is given).
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../contract/names.js';
import { type Explanation, explainModule, formatExplanation } from '../../driver/observe/explain.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { explainJson } from '../helpers/explain-cli.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { referenceRows, writeTable } from '../sql/tpch-data.js';
import type { DimensionJoinParams } from './fixtures/jobs/parquet-dimension-join.js';

const JOB = path.resolve(import.meta.dirname, 'fixtures/jobs/parquet-dimension-join.ts');
const CONTAINER = `pq-explain-${process.pid}-${Date.now().toString(36)}`;
const ROWS_PER_FILE = 10_000;
/** DuckDB writes row groups of exactly this many rows (the last one of a file is shorter). */
const GROUP_ROWS = 2048;

let e2e: E2EFabric;
let blobs: BlobStore;
let dir: string;
/** The dimension's two files (2 + 24 columns, 5 row groups each, keys in order) and the facts'. */
let wide: string;
let fact: string;

/** A wide file of ROWS_PER_FILE keys from `first`, written by DuckDB. */
async function writeWide(file: string, first: number, extraName = 'c'): Promise<void> {
  const extra = Array.from({ length: 24 }, (_, j) =>
    j % 2 === 0
      ? `repeat('v', 1 + (i * ${j + 3}) % 17) || i::VARCHAR AS ${extraName}${j}`
      : `(i * ${j + 5}) % 997 AS ${extraName}${j}`,
  ).join(', ');
  await referenceRows(
    `COPY (SELECT i::INTEGER AS k, 'name-' || (i % 41)::VARCHAR AS name, ${extra} FROM range(${first}, ${first + ROWS_PER_FILE}) t(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE ${GROUP_ROWS})`,
  );
}

/** Compressed bytes of the chunks of `columns` in the row groups of `glob` that hold a row matching `where`. */
async function chunkBytes(glob: string, columns: string[], where = 'TRUE'): Promise<number> {
  const [row] = await referenceRows(
    `WITH kept AS (SELECT DISTINCT filename, file_row_number // ${GROUP_ROWS} AS g FROM read_parquet('${glob}', filename = true, file_row_number = true) WHERE ${where})
     SELECT coalesce(sum(m.total_compressed_size), 0)::BIGINT AS bytes FROM parquet_metadata('${glob}') m
       JOIN kept ON kept.filename = m.file_name AND kept.g = m.row_group_id
     WHERE lower(m.path_in_schema) IN (${columns.map((c) => `'${c}'`).join(', ')})`,
  );
  return Number(row!.bytes);
}

/** Row groups of `glob` with no row matching `where`. */
async function emptyRowGroups(glob: string, where: string): Promise<number> {
  const [row] = await referenceRows(
    `SELECT count(*) FILTER (WHERE m = 0)::BIGINT AS empty FROM (SELECT filename, file_row_number // ${GROUP_ROWS} AS g, count(*) FILTER (WHERE ${where}) AS m
       FROM read_parquet('${glob}', filename = true, file_row_number = true) GROUP BY ALL)`,
  );
  return Number(row!.empty);
}

/** Jobs and their stages (ids from 0, as explain numbers them in a fresh application). */
type Shape = {
  hidden: boolean;
  stages: {
    stageId: number;
    kind: string;
    name: string;
    partitions: number;
    skipped: boolean;
    parents: number[];
  }[];
}[];

function explainedShape(e: Explanation): Shape {
  return e.jobs.map((j) => ({
    hidden: j.hidden,
    stages: j.stages.map((s) => ({
      stageId: s.stageId,
      kind: s.kind,
      name: s.name,
      partitions: s.partitions,
      skipped: s.skipped,
      parents: s.parentStageIds,
    })),
  }));
}

/** The stages of the jobs the last run started, as its job-start events give them. */
function runShape(): Shape {
  const starts = e2e.events.of('job-start');
  const base = Math.min(...starts.flatMap((j) => j.stageIds));
  return starts.map((j) => ({
    hidden: j.hidden,
    stages: (j.stages ?? []).map((s) => ({
      stageId: s.stageId - base,
      kind: s.kind,
      name: s.name,
      partitions: s.numPartitions,
      skipped: j.skippedStageIds.includes(s.stageId),
      parents: s.parentStageIds.map((p) => p - base),
    })),
  }));
}

/** The run's notices of its Parquet scans, and explain's lines for the same scans. */
const runScanNotices = () =>
  e2e.events
    .of('notice')
    .map((n) => n.message)
    .filter((m) => /^node \d+ read\.parquet: /.test(m))
    .sort();
const explainedScanNotices = (e: Explanation) =>
  e.sources
    .filter((s) => s.parquet)
    .map((s) => `node ${s.nodeId} read.parquet: ${s.parquet!.note}`)
    .sort();

/** The estimate df.explain() prints for a broadcast side, in bytes; undefined when nothing is broadcast. */
function printedEstimate(plan: string): number | undefined {
  const m = /estimated (?:[\d.]+ [KMG]iB \((\d+) bytes\)|(\d+) bytes), at most/.exec(plan);
  return m ? Number(m[1] ?? m[2]) : undefined;
}

const broadcasts = (e: Explanation) =>
  JSON.stringify(e.jobs.map((j) => j.plan)).includes('broadcastExchange');

type Params = DimensionJoinParams;

/** The writes of BlobStore: explain must call none of them. */
const STORE_WRITES = new Set([
  'put',
  'copy',
  'stageBlock',
  'commitBlocks',
  'delete',
  'deletePrefix',
  'deleteUnder',
  'appendBlob',
  'ensureContainers',
]);

/**
 * `store` as explain gets it, every call going to Azurite, with each write it is asked for noted
 * in `writes`. The suite's Azurite is shared by the files running beside this one, so the data
 * container's listing before and after cannot tell explain's writes from theirs; the calls can.
 */
function notingWrites(store: BlobStore, writes: string[]): BlobStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (STORE_WRITES.has(String(property)))
          writes.push(`${String(property)} ${String(args[1] ?? args[0])}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Explain `params`, then run them; both with the fabric's slots. */
async function explainAndRun(params: Params, withBlobs: boolean) {
  // Given the storage, explain still writes nothing to it (local files are read where they lie).
  const writes: string[] = [];
  const explained = await explainModule(JOB, params, {
    slots: e2e.fabric.totalSlots,
    ...(withBlobs ? { blobs: notingWrites(blobs, writes) } : {}),
  });
  expect(writes).toEqual([]);
  e2e.events.clear();
  const run = (await e2e.driver.run(JOB, params)) as { count: number; plan: string };
  return { explained, run };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-explain-parquet-'));
  await mkdir(path.join(dir, 'wide'));
  await writeWide(path.join(dir, 'wide', 'wide-0.parquet'), 0);
  await writeWide(path.join(dir, 'wide', 'wide-1.parquet'), ROWS_PER_FILE);
  wide = path.join(dir, 'wide', 'wide-*.parquet');
  const facts = Array.from({ length: 3000 }, (_, i) => ({
    f_id: i,
    k: i % 13 === 0 ? null : (i * 7) % 21_000,
  }));
  fact = await writeTable(dir, 'facts', facts, { f_id: 'BIGINT', k: 'INTEGER' }, 'parquet', 2);
  blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
  await blobs.ensureContainers([CONTAINER, DATA_CONTAINER]);
  for (const f of ['wide/wide-0.parquet', 'wide/wide-1.parquet', 'facts-0.parquet', 'facts-1.parquet'])
    await blobs.put(CONTAINER, `t/${f}`, await readFile(path.join(dir, f)));
  e2e = await startE2E({ label: 'explain-parquet' });
}, 120_000);

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('stratus explain plans Parquet scans as a run does', () => {
  it.each(['local', 'az'] as const)(
    '%s files: a join broadcast only because the scan reads 2 of 26 columns — explain and the run agree on both sides of the threshold',
    async (where) => {
      const inputs =
        where === 'local'
          ? { fact, wide }
          : { fact: `az://${CONTAINER}/t/facts-*.parquet`, wide: `az://${CONTAINER}/t/wide/` };
      const two = await chunkBytes(wide, ['k', 'name']);
      const every = await chunkBytes(wide, ['k', 'name', ...Array.from({ length: 24 }, (_, j) => `c${j}`)]);
      expect(two * 5).toBeLessThan(every);
      const [reference] = await referenceRows(
        `SELECT count(*)::BIGINT AS n FROM read_parquet('${fact}') f LEFT JOIN read_parquet('${wide}') w ON f.k = w.k`,
      );
      // At the two columns' bytes the dimension is broadcast; one byte less and both sides are shuffled.
      for (const threshold of [two, two - 1]) {
        const params = { ...inputs, columns: ['k', 'name'], threshold };
        const { explained, run } = await explainAndRun(params, where === 'az');
        const dimension = explained.sources.filter((s) => s.uri === inputs.wide);
        expect(dimension.length).toBeGreaterThan(0);
        for (const s of dimension) {
          expect(s.bytes).toBe(two);
          expect([...s.parquet!.readColumns!].sort()).toEqual(['k', 'name']);
          expect(s.parquet!.columns).toBe(26);
        }
        expect(broadcasts(explained)).toBe(threshold >= two);
        expect(/BroadcastExchange/.test(run.plan)).toBe(threshold >= two);
        if (threshold >= two) expect(printedEstimate(run.plan)).toBe(two);
        expect(run.count).toBe(Number(reference!.n));
        expect(explainedShape(explained)).toEqual(runShape());
        expect(explainedScanNotices(explained)).toEqual(runScanNotices());
      }
    },
    300_000,
  );

  it('a filter that skips row groups: explain gives the run’s splits, partitions, skipped row groups and bytes', async () => {
    const filter = { from: 3000, to: 5000 };
    const params = { fact, wide, columns: ['k', 'name'], threshold: 1 << 30, minPartitions: 5, ...filter };
    const { explained, run } = await explainAndRun(params, true);
    const where = `k BETWEEN ${filter.from} AND ${filter.to}`;
    const dimension = explained.sources.filter((s) => s.uri === wide);
    expect(dimension.length).toBeGreaterThan(0);
    const expectedBytes = await chunkBytes(wide, ['k', 'name'], where);
    const everyBytes = await chunkBytes(wide, ['k', 'name']);
    expect(expectedBytes).toBeLessThan(everyBytes);
    for (const s of dimension) {
      expect(s.parquet!.rowGroups).toBe(2 * Math.ceil(ROWS_PER_FILE / GROUP_ROWS));
      expect(s.parquet!.skippedRowGroups).toBe(await emptyRowGroups(wide, where));
      expect(s.bytes).toBe(expectedBytes);
    }
    expect(printedEstimate(run.plan)).toBe(expectedBytes);
    expect(explainedShape(explained)).toEqual(runShape());
    expect(explainedScanNotices(explained)).toEqual(runScanNotices());
    // Unfiltered, the same scan keeps every row group: more splits, which explain and the run both see.
    const { from: _from, to: _to, ...unfiltered } = params;
    const whole = await explainAndRun(unfiltered, false);
    const wholeSplits = whole.explained.sources.find((s) => s.uri === wide)!.parquet!.splits;
    expect(wholeSplits).toBeGreaterThan(dimension[0]!.parquet!.splits);
    expect(explainedShape(whole.explained)).toEqual(runShape());
    expect(explainedScanNotices(whole.explained)).toEqual(runScanNotices());
    // The printout and the command line's --json say the same.
    const text = formatExplanation(explained);
    for (const s of dimension) expect(text).toContain(`(${s.parquet!.note})`);
    const cli = await explainJson<Explanation>([
      JOB,
      '--param',
      `fact=${fact}`,
      '--param',
      `wide=${wide}`,
      '--param',
      'columns=["k","name"]',
      '--param',
      `threshold=${1 << 30}`,
      '--param',
      'minPartitions=5',
      '--param',
      `from=${filter.from}`,
      '--param',
      `to=${filter.to}`,
      '--total-slots',
      String(e2e.fabric.totalSlots),
      '--no-typecheck',
    ]);
    expect(cli.sources).toEqual(explained.sources);
    // (Stage names aside: the command line's process names an operator by its call site where
    // the test process, whose stack frames vitest rewrites, sometimes cannot.)
    const unnamed = (e: Explanation) =>
      explainedShape(e).map((j) => ({ ...j, stages: j.stages.map(({ name: _name, ...st }) => st) }));
    expect(unnamed(cli)).toEqual(unnamed(explained));
  }, 300_000);

  it('a truncated footer and files of different schemas fail explain as they fail the run, naming the files', async () => {
    const truncated = path.join(dir, 'truncated');
    await mkdir(truncated);
    await copyFile(path.join(dir, 'wide', 'wide-0.parquet'), path.join(truncated, 'wide-0.parquet'));
    const victim = path.join(truncated, 'wide-1.parquet');
    await copyFile(path.join(dir, 'wide', 'wide-1.parquet'), victim);
    await truncate(victim, (await stat(victim)).size - 100);
    const mixed = path.join(dir, 'mixed');
    await mkdir(mixed);
    await copyFile(path.join(dir, 'wide', 'wide-0.parquet'), path.join(mixed, 'wide-0.parquet'));
    const other = path.join(mixed, 'wide-1.parquet');
    await writeWide(other, ROWS_PER_FILE, 'd');
    for (const [folder, named] of [
      [truncated, [victim]],
      [mixed, [path.join(mixed, 'wide-0.parquet'), other]],
    ] as const) {
      const params = { fact, wide: path.join(folder, '*.parquet'), columns: ['k', 'name'], threshold: -1 };
      const explainError = await explainModule(JOB, params, { slots: 2 }).then(
        () => undefined,
        (error: Error) => error,
      );
      e2e.events.clear();
      const runError = await e2e.driver.run(JOB, params).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(runError).toBeInstanceOf(Error);
      expect(explainError?.message).toBe(runError!.message);
      for (const file of named) expect(explainError?.message).toContain(file);
      expect(e2e.events.of('job-start')).toHaveLength(0);
    }
  }, 300_000);
});
