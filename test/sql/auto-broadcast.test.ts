/**
 * Automatic broadcast of file scans by size (Spark's spark.sql.autoBroadcastJoinThreshold): the
 * driver lists the scans, rebuilds the graph with their sizes, and a join whose buildable side is
 * at most the threshold broadcasts it — the other side is not exchanged. A side above it, a
 * threshold of -1, or the preserved side of an outer join is shuffled; the hint still wins. Every
 * result equals single-process DuckDB over the same files.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParquetScanPlan } from '../../driver/data/parquet-inputs.js';
import type { RunInputs } from '../../driver/data/run-inputs.js';
import { planWithListedSizes } from '../../driver/data/scan-sizes.js';
import { bindDataFrames } from '../../duckdb/binder.js';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph, type JobGraph } from '../../engine/plan/graph.js';
import type { InputSplit } from '../../engine/plan/stage-descriptor.js';
import { broadcast } from '../../engine/sql/dataframe.js';
import { exchangeSpecOf } from '../../engine/sql/planner.js';
import type { StructType } from '../../engine/sql/types.js';
import { lastRunGraph, runDataFrameJob } from './local-dataframe-runner.js';
import { normalised, referenceRows, writeTable } from './tpch-data.js';

const FACT_TYPES = { f_id: 'BIGINT', dim: 'INTEGER', amount: 'DOUBLE' };
const DIM_TYPES = { dim: 'INTEGER', label: 'VARCHAR' };

let dir: string;
let fact: string;
let dim: string;
let factBytes: number;
let dimBytes: number;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-autobcast-'));
  const factRows = Array.from({ length: 3000 }, (_, i) => ({
    f_id: i,
    dim: i % 17 === 0 ? null : (i * 7) % 31, // 0…30: some have no dimension row; nulls
    amount: (i % 10) * 1.25,
  }));
  const dimRows = Array.from({ length: 25 }, (_, i) => ({
    dim: i % 12 === 11 ? null : 3 + i, // 3…27: some never in the fact table; a null key
    label: `d${i}`,
  }));
  fact = await writeTable(dir, 'fact', factRows, FACT_TYPES, 'parquet', 2);
  dim = await writeTable(dir, 'dim', dimRows, DIM_TYPES, 'parquet', 1);
  // A join reads every column of both tables: each is estimated by all its column chunks.
  factBytes = await chunkBytes(fact);
  dimBytes = await chunkBytes(dim);
});

/**
 * The compressed bytes of the column chunks of the Parquet files `glob` names, of `columns` (all
 * when omitted), summed by DuckDB from the files' metadata: the reference for a scan's estimate.
 */
async function chunkBytes(glob: string, columns?: readonly string[]): Promise<number> {
  const where = columns ? `WHERE path_in_schema IN (${columns.map((c) => `'${c}'`).join(', ')})` : '';
  const [row] = await referenceRows(
    `SELECT sum(total_compressed_size)::BIGINT AS n FROM parquet_metadata('${glob}') ${where}`,
  );
  return Number(row!.n);
}

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The exchanges of the graph's DataFrame nodes, by mode, with a broadcast's estimate. */
function exchanges(graph: JobGraph): { mode: string; estimatedBytes?: number; reason?: string }[] {
  const out: { mode: string; estimatedBytes?: number; reason?: string }[] = [];
  for (const node of graph.nodes) {
    const spec = exchangeSpecOf(node);
    if (spec) out.push(spec);
  }
  return out;
}

const REFERENCE = {
  inner: 'SELECT f.dim, f.f_id, f.amount, d.label FROM F f JOIN D d ON f.dim = d.dim',
  left: 'SELECT f.dim, f.f_id, f.amount, d.label FROM F f LEFT JOIN D d ON f.dim = d.dim',
  right: 'SELECT d.dim, f.f_id, f.amount, d.label FROM F f RIGHT JOIN D d ON f.dim = d.dim',
  full: 'SELECT coalesce(f.dim, d.dim) AS dim, f.f_id, f.amount, d.label FROM F f FULL JOIN D d ON f.dim = d.dim',
  semi: 'SELECT f.* FROM F f SEMI JOIN D d ON f.dim = d.dim',
  anti: 'SELECT f.* FROM F f ANTI JOIN D d ON f.dim = d.dim',
} as const;

async function expectDuckDbRows(how: keyof typeof REFERENCE, rows: Record<string, unknown>[]) {
  const sql = REFERENCE[how]
    .replace(' F ', ` read_parquet('${fact}') `)
    .replace(' D ', ` read_parquet('${dim}') `);
  expect(normalised(rows, true)).toEqual(normalised(await referenceRows(sql), true));
}

function joinJob(how: keyof typeof REFERENCE, threshold?: string | number, hint = false) {
  return defineJob((ctx) => {
    ctx.conf.set('spark.sql.shuffle.partitions', 3);
    if (threshold !== undefined) ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', threshold);
    const f = ctx.read.parquet(fact);
    const d = ctx.read.parquet(dim);
    return f.join(hint ? broadcast(d) : d, 'dim', how).collect();
  });
}

describe('a join side of file scans is broadcast by its listed size', () => {
  it('the test tables are a small dimension and a fact table more than 5× larger', () => {
    expect(factBytes).toBeGreaterThan(5 * dimBytes);
  });

  it('a small Parquet side is broadcast (the fact side is not exchanged) and the rows equal DuckDB', async () => {
    const rows = (await runDataFrameJob(joinJob('inner'), undefined, { defaultParallelism: 2 })) as Record<
      string,
      unknown
    >[];
    await expectDuckDbRows('inner', rows);
    const modes = exchanges(lastRunGraph()!);
    expect(modes.map((m) => m.mode)).toEqual(['broadcast']);
    expect(modes[0]!.reason).toBe('size');
    expect(modes[0]!.estimatedBytes).toBe(dimBytes);
  });

  it('a side above the threshold is shuffled: both sides hash-exchanged', async () => {
    // Between the two tables' sizes: the dimension is broadcast, the fact table would not be.
    const rows = (await runDataFrameJob(joinJob('inner', dimBytes - 1), undefined, {
      defaultParallelism: 2,
    })) as Record<string, unknown>[];
    await expectDuckDbRows('inner', rows);
    expect(exchanges(lastRunGraph()!).map((m) => m.mode)).toEqual(['hash', 'hash']);
  });

  it('the smaller side is the one broadcast when both are under the threshold', async () => {
    const job = defineJob((ctx) => {
      const f = ctx.read.parquet(fact);
      const d = ctx.read.parquet(dim);
      return d.join(f, 'dim', 'inner').collect();
    });
    const rows = (await runDataFrameJob(job, undefined, { defaultParallelism: 2 })) as Record<
      string,
      unknown
    >[];
    await expectDuckDbRows('inner', rows); // the same columns, in another order
    const modes = exchanges(lastRunGraph()!);
    expect(modes).toEqual([{ mode: 'broadcast', reason: 'size', estimatedBytes: dimBytes }]);
  });

  it('-1 disables the automatic broadcast, and the hint still wins over it', async () => {
    const off = (await runDataFrameJob(joinJob('inner', -1), undefined, { defaultParallelism: 2 })) as Record<
      string,
      unknown
    >[];
    await expectDuckDbRows('inner', off);
    expect(exchanges(lastRunGraph()!).map((m) => m.mode)).toEqual(['hash', 'hash']);
    const hinted = (await runDataFrameJob(joinJob('inner', -1, true), undefined, {
      defaultParallelism: 2,
    })) as Record<string, unknown>[];
    await expectDuckDbRows('inner', hinted);
    expect(exchanges(lastRunGraph()!)).toEqual([
      { mode: 'broadcast', reason: 'hint', estimatedBytes: dimBytes },
    ]);
  });

  // The small dimension is the right side and the threshold admits it alone: Spark builds the
  // right side of inner, left, semi and anti joins; a right join preserves it and a full join
  // both sides, so those are shuffled.
  const expected = { left: 'broadcast', semi: 'broadcast', anti: 'broadcast', right: 'hash', full: 'hash' };
  for (const [how, mode] of Object.entries(expected) as [keyof typeof REFERENCE, string][]) {
    it(`${how === 'anti' ? 'an' : 'a'} ${how} join ${mode === 'broadcast' ? 'broadcasts' : 'does not broadcast'} the small right side`, async () => {
      const rows = (await runDataFrameJob(joinJob(how, dimBytes), undefined, {
        defaultParallelism: 2,
      })) as Record<string, unknown>[];
      await expectDuckDbRows(how, rows);
      expect(exchanges(lastRunGraph()!)).toEqual(
        mode === 'broadcast'
          ? [{ mode: 'broadcast', reason: 'size', estimatedBytes: dimBytes }]
          : [
              { mode: 'hash', keys: [{ k: 'col', name: 'dim' }] },
              { mode: 'hash', keys: [{ k: 'col', name: 'dim' }] },
            ],
      );
    });
  }

  it('a right join broadcasts its left side when that one is small enough', async () => {
    const rows = (await runDataFrameJob(joinJob('right'), undefined, { defaultParallelism: 2 })) as Record<
      string,
      unknown
    >[];
    await expectDuckDbRows('right', rows);
    expect(exchanges(lastRunGraph()!)).toEqual([
      { mode: 'broadcast', reason: 'size', estimatedBytes: factBytes },
    ]);
  });

  it('explain() shows the BroadcastExchange with the size estimate', async () => {
    const job = defineJob((ctx) => ctx.read.parquet(fact).join(ctx.read.parquet(dim), 'dim').explain());
    const text = (await runDataFrameJob(job, undefined, { defaultParallelism: 2 })) as string;
    expect(text).toContain(
      `BroadcastExchange (one partition, read whole by every task of the join stage; estimated ${dimBytes} bytes, at most spark.sql.autoBroadcastJoinThreshold)`,
    );
    expect(dimBytes).toBeLessThan(1024); // printed in bytes: under 1 KiB
    expect(text).not.toContain('hash exchange');
  });
});

describe('the driver plans with the sizes of the listing it already made', () => {
  const job = defineJob((ctx) => {
    const f = ctx.read.parquet('az://lake/fact/*.parquet').where('amount > 1');
    const d = ctx.read.json('az://lake/dim/*.jsonl');
    return f.join(d, 'dim', 'left').collect();
  });
  const build = (scanSizes?: Record<string, number>) =>
    buildJobGraph(job, undefined, { defaultParallelism: 2, ...(scanSizes ? { scanSizes } : {}) });
  /** A listing of `graph`'s sources as run-inputs.ts makes one: `bytes` per scan ordinal (fact, dim). */
  const listing = (graph: JobGraph, bytes: [number, number]): RunInputs => {
    const inputs = new Map<number, InputSplit[][]>();
    const parquetScans = new Map<number, ParquetScanPlan>();
    for (const [i, source] of graph.sources().entries()) {
      const split: InputSplit = {
        kind: 'blob',
        container: 'lake',
        blob: source.uri,
        start: 0,
        end: bytes[i]!,
        gzip: false,
      };
      inputs.set(source.nodeId, [[split]]);
      if (source.kind === 'parquet')
        parquetScans.set(source.nodeId, {
          schema: { fields: [] },
          files: 1,
          rowGroups: 1,
          skippedRowGroups: 0,
          splits: 1,
          footerBytes: 10,
          estimatedBytes: bytes[i]!,
          columnBytes: new Map(),
        });
    }
    return { inputs, sourcePartitions: new Map([...inputs].map(([id, p]) => [id, p.length])), parquetScans };
  };

  it('a small listed side makes a second graph that broadcasts it; the listing carries over, nothing is listed again', async () => {
    const first = build();
    expect(exchanges(first).map((m) => m.mode)).toEqual(['hash', 'hash']);
    const listed = listing(first, [50_000_000, 4_000]);
    let rebuilds = 0;
    let listedAgain = 0;
    const planned = await planWithListedSizes(
      first,
      listed,
      (sizes) => {
        rebuilds++;
        return build(sizes);
      },
      async () => {
        listedAgain++;
        return listed;
      },
    );
    expect(rebuilds).toBe(1);
    expect(listedAgain).toBe(0);
    expect(planned.graph).not.toBe(first);
    expect(exchanges(planned.graph)).toEqual([{ mode: 'broadcast', reason: 'size', estimatedBytes: 4_000 }]);
    // Each source of the second graph has the first listing of the same path.
    const byUri = new Map(first.sources().map((s) => [s.uri, listed.inputs.get(s.nodeId)]));
    for (const source of planned.graph.sources()) {
      expect(planned.inputs.get(source.nodeId)).toBe(byUri.get(source.uri));
      expect(planned.sourcePartitions.get(source.nodeId)).toBe(1);
    }
    expect([...planned.parquetScans.values()].map((p) => p.estimatedBytes)).toEqual([50_000_000]);
    // Executors rebuild with the sizes the descriptor carries: the same graph.
    expect(build(planned.graph.scanSizes()).fingerprint).toBe(planned.graph.fingerprint);
  });

  it('when no side is small enough the first graph runs and ships no sizes', async () => {
    const first = build();
    const planned = await planWithListedSizes(
      first,
      listing(first, [50_000_000, 40_000_000]),
      build,
      async () => {
        throw new Error('nothing is listed again');
      },
    );
    expect(planned.graph).toBe(first);
    expect(planned.graph.scanSizes()).toEqual({});
  });
});

describe('a Parquet side is estimated by the columns its scan reads', () => {
  const WIDE_EXTRA_COLUMNS = 30;
  let wide: string;
  let facts: string;
  let twoColumns: number;
  let allColumns: number;

  beforeAll(async () => {
    // A wide dimension (32 columns, 4 row groups), written by DuckDB: a key, a name, and 30
    // columns a query that selects two never reads.
    wide = path.join(dir, 'wide.parquet');
    const extra = Array.from({ length: WIDE_EXTRA_COLUMNS }, (_, j) =>
      j % 3 === 0
        ? `repeat(chr(97 + ${j % 26}), 1 + (i * ${j + 7}) % 13) || i::VARCHAR AS c${j}`
        : `((i * ${j + 11}) % 1013) / 7.0 AS c${j}`,
    ).join(', ');
    await referenceRows(
      `COPY (SELECT i::INTEGER AS k, 'name-' || (i % 97)::VARCHAR AS name, ${extra} FROM range(2000) t(i)) TO '${wide}' (FORMAT parquet, ROW_GROUP_SIZE 500)`,
    );
    const factRows = Array.from({ length: 3000 }, (_, i) => ({
      f_id: i,
      k: i % 11 === 0 ? null : (i * 13) % 2300, // some keys have no wide row
      amount: (i % 7) * 0.5,
    }));
    facts = await writeTable(
      dir,
      'facts',
      factRows,
      { f_id: 'BIGINT', k: 'INTEGER', amount: 'DOUBLE' },
      'parquet',
      2,
    );
    twoColumns = await chunkBytes(wide, ['k', 'name']);
    allColumns = await chunkBytes(wide);
  });

  /** fact LEFT JOIN wide (the wide side the only one a left join can broadcast), under `threshold`. */
  const leftJoin = (threshold: number, columns?: string[]) =>
    defineJob((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 3);
      ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', threshold);
      const w = ctx.read.parquet(wide);
      return ctx.read
        .parquet(facts)
        .join(columns ? w.select(...columns) : w, 'k', 'left')
        .collect();
    });

  it('the two columns are a small part of the file (the threshold lies between)', async () => {
    expect(twoColumns).toBeGreaterThan(0);
    expect(twoColumns * 10).toBeLessThan(allColumns);
  });

  it('a side selecting two columns of a wide file is estimated by their chunks, and broadcast', async () => {
    const rows = (await runDataFrameJob(leftJoin(allColumns - 1, ['k', 'name']), undefined, {
      defaultParallelism: 2,
    })) as Record<string, unknown>[];
    const expected = await referenceRows(
      `SELECT f.k, f.f_id, f.amount, w.name FROM read_parquet('${facts}') f LEFT JOIN read_parquet('${wide}') w ON f.k = w.k`,
    );
    expect(rows).toHaveLength(3000);
    expect(normalised(rows, true)).toEqual(normalised(expected, true));
    expect(exchanges(lastRunGraph()!)).toEqual([
      { mode: 'broadcast', reason: 'size', estimatedBytes: twoColumns },
    ]);
    expect(twoColumns).toBeLessThan(allColumns - 1);
  });

  it('a side reading every column is estimated by all its chunks, and shuffled above the threshold', async () => {
    const rows = (await runDataFrameJob(leftJoin(allColumns - 1), undefined, {
      defaultParallelism: 2,
    })) as Record<string, unknown>[];
    const expected = await referenceRows(
      `SELECT f.k, f.f_id, f.amount, ${['name', ...Array.from({ length: WIDE_EXTRA_COLUMNS }, (_, j) => `c${j}`)].map((c) => `w.${c}`).join(', ')} FROM read_parquet('${facts}') f LEFT JOIN read_parquet('${wide}') w ON f.k = w.k`,
    );
    expect(normalised(rows, true)).toEqual(normalised(expected, true));
    expect(exchanges(lastRunGraph()!).map((m) => m.mode)).toEqual(['hash', 'hash']);
    // At the whole figure the same side is broadcast: its estimate is every chunk.
    await runDataFrameJob(leftJoin(allColumns), undefined, { defaultParallelism: 2 });
    expect(exchanges(lastRunGraph()!)).toEqual([
      { mode: 'broadcast', reason: 'size', estimatedBytes: allColumns },
    ]);
  });

  it("explain() prints the two columns' estimate on the BroadcastExchange", async () => {
    const job = defineJob((ctx) =>
      ctx.read.parquet(facts).join(ctx.read.parquet(wide).select('k', 'name'), 'k', 'left').explain(),
    );
    const text = (await runDataFrameJob(job, undefined, { defaultParallelism: 2 })) as string;
    const printed =
      twoColumns < 1024
        ? `${twoColumns} bytes`
        : `${(twoColumns / 1024).toFixed(1)} KiB (${twoColumns} bytes)`;
    expect(text).toContain(
      `BroadcastExchange (one partition, read whole by every task of the join stage; estimated ${printed}, at most spark.sql.autoBroadcastJoinThreshold)`,
    );
    expect(text).not.toContain('hash exchange');
  });
});

describe('the driver binds the first graph to size its Parquet scans by the columns they read', () => {
  const FACT: StructType = {
    fields: [
      { name: 'f_id', type: 'BIGINT', nullable: true },
      { name: 'dim', type: 'INTEGER', nullable: true },
      { name: 'amount', type: 'DOUBLE', nullable: true },
    ],
  };
  const WIDE: StructType = {
    fields: ['dim', 'label', 'blob_a', 'blob_b'].map((name) => ({
      name,
      type: name === 'dim' ? 'INTEGER' : 'VARCHAR',
      nullable: true,
    })),
  };
  /** The wide side's listed chunk bytes by column: two small columns and two large ones. */
  const WIDE_COLUMNS = new Map([
    ['dim', 3_000],
    ['label', 5_000],
    ['blob_a', 40_000_000],
    ['blob_b', 30_000_000],
  ]);
  const wideTotal = [...WIDE_COLUMNS.values()].reduce((n, b) => n + b, 0);
  const job = defineJob((ctx) =>
    ctx.read
      .parquet('az://lake/fact/*.parquet')
      .join(ctx.read.parquet('az://lake/wide/*.parquet').select('dim', 'label'), 'dim', 'left')
      .collect(),
  );
  const build = (scanSizes?: Record<string, number>) =>
    buildJobGraph(job, undefined, { defaultParallelism: 2, ...(scanSizes ? { scanSizes } : {}) });
  /** A listing of the two Parquet scans (fact, wide), with their schemas and chunk bytes. */
  const listing = (graph: JobGraph, wideColumns: Map<string, number>): RunInputs => {
    const inputs = new Map<number, InputSplit[][]>();
    const parquetScans = new Map<number, ParquetScanPlan>();
    for (const [i, source] of graph.sources().entries()) {
      const columnBytes =
        i === 0
          ? new Map([
              ['f_id', 60_000_000],
              ['dim', 20_000_000],
              ['amount', 40_000_000],
            ])
          : wideColumns;
      const estimatedBytes = [...columnBytes.values()].reduce((n, b) => n + b, 0);
      inputs.set(source.nodeId, [
        [{ kind: 'blob', container: 'lake', blob: source.uri, start: 0, end: estimatedBytes, gzip: false }],
      ]);
      parquetScans.set(source.nodeId, {
        schema: i === 0 ? FACT : WIDE,
        files: 1,
        rowGroups: 1,
        skippedRowGroups: 0,
        splits: 1,
        footerBytes: 10,
        estimatedBytes,
        columnBytes,
      });
    }
    return { inputs, sourcePartitions: new Map([...inputs].map(([id, p]) => [id, p.length])), parquetScans };
  };
  /** The driver's bind (the real binder), schemas from the listing; records the graphs it bound. */
  const binder = (bound: JobGraph[], failFirst?: Error) => async (graph: JobGraph, listed: RunInputs) => {
    bound.push(graph);
    if (failFirst && bound.length === 1) throw failFirst;
    await bindDataFrames(graph, async (nodeId) => listed.parquetScans.get(nodeId)?.schema);
  };
  const noMoreListing = async (): Promise<RunInputs> => {
    throw new Error('nothing is listed again');
  };

  it('a side reading two small columns of a large file is broadcast at their bytes; the graph run is bound', async () => {
    const first = build();
    const bound: JobGraph[] = [];
    const planned = await planWithListedSizes(
      first,
      listing(first, WIDE_COLUMNS),
      build,
      noMoreListing,
      binder(bound),
    );
    expect(wideTotal).toBeGreaterThan(10 * 1024 * 1024); // the whole file would not be broadcast
    expect(exchanges(planned.graph)).toEqual([
      {
        mode: 'broadcast',
        reason: 'size',
        estimatedBytes: WIDE_COLUMNS.get('dim')! + WIDE_COLUMNS.get('label')!,
      },
    ]);
    expect(bound).toEqual([first, planned.graph]);
    // Bound: each scan knows the columns its tasks fetch.
    const read = planned.graph.nodes.flatMap((n) =>
      n.impl.type === 'relational' && n.impl.fragment.input.kind === 'scan'
        ? [JSON.stringify(n.impl.fragment.bound?.readColumns)]
        : [],
    );
    expect(read.sort()).toEqual(
      [JSON.stringify(['dim', 'label']), JSON.stringify(['f_id', 'dim', 'amount'])].sort(),
    );
  });

  it('when the two columns are not small enough the first graph runs, bound once', async () => {
    const first = build();
    const bound: JobGraph[] = [];
    const big = new Map([...WIDE_COLUMNS, ['label', 20 * 1024 * 1024]]);
    const planned = await planWithListedSizes(
      first,
      listing(first, big),
      build,
      noMoreListing,
      binder(bound),
    );
    expect(planned.graph).toBe(first);
    expect(bound).toEqual([first]);
    expect(exchanges(planned.graph).map((m) => m.mode)).toEqual(['hash', 'hash']);
  });

  it('a first graph that does not bind sizes every column, and its error is thrown when it is the one to run', async () => {
    const first = build();
    const failure = new Error('the first graph does not bind');
    await expect(
      planWithListedSizes(first, listing(first, WIDE_COLUMNS), build, noMoreListing, binder([], failure)),
    ).rejects.toBe(failure);
  });

  it('a first graph that does not bind still broadcasts a side small in every column, and the rebuild is bound', async () => {
    const first = build();
    const bound: JobGraph[] = [];
    const small = new Map([...WIDE_COLUMNS, ['blob_a', 1_000], ['blob_b', 2_000]]);
    const planned = await planWithListedSizes(
      first,
      listing(first, small),
      build,
      noMoreListing,
      binder(bound, new Error('the first graph does not bind')),
    );
    // Every column counts: the columns read are unknown.
    expect(exchanges(planned.graph)).toEqual([
      { mode: 'broadcast', reason: 'size', estimatedBytes: 3_000 + 5_000 + 1_000 + 2_000 },
    ]);
    expect(bound).toEqual([first, planned.graph]);
  });

  it("a join on a condition with no equality binds only once broadcast: its scans, bound before the join fails, count their columns; else the binder's error", async () => {
    const inequality = defineJob((ctx) => {
      const f = ctx.read.parquet('az://lake/fact/*.parquet');
      const w = ctx.read.parquet('az://lake/wide/*.parquet').select('dim', 'label');
      return f.join(w, f.col('amount').gt(w.col('dim')), 'left').collect();
    });
    const buildInequality = (scanSizes?: Record<string, number>) =>
      buildJobGraph(inequality, undefined, { defaultParallelism: 2, ...(scanSizes ? { scanSizes } : {}) });
    const first = buildInequality();
    const bound: JobGraph[] = [];
    // The first graph (both sides shuffled) does not bind past its scans; the rebuild does.
    const planned = await planWithListedSizes(
      first,
      listing(first, WIDE_COLUMNS),
      buildInequality,
      noMoreListing,
      binder(bound),
    );
    expect(exchanges(planned.graph)).toEqual([
      {
        mode: 'broadcast',
        reason: 'size',
        estimatedBytes: WIDE_COLUMNS.get('dim')! + WIDE_COLUMNS.get('label')!,
      },
    ]);
    expect(bound).toEqual([first, planned.graph]);
    // The two columns read too large: not broadcast, and the first graph's refusal is the run's error.
    const again = buildInequality();
    const large = new Map([...WIDE_COLUMNS, ['label', 20 * 1024 * 1024]]);
    await expect(
      planWithListedSizes(again, listing(again, large), buildInequality, noMoreListing, binder([])),
    ).rejects.toThrow(/the join condition has no equality between a column of each side/);
  });
});
