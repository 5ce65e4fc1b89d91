/**
 * Automatic broadcast of file scans by size (Spark's spark.sql.autoBroadcastJoinThreshold): the
 * driver lists the scans, rebuilds the graph with their sizes, and a join whose buildable side is
 * at most the threshold broadcasts it — the other side is not exchanged. A side above it, a
 * threshold of -1, or the preserved side of an outer join is shuffled; the hint still wins. Every
 * result equals single-process DuckDB over the same files.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planWithListedSizes } from '../../driver/app/job-run.js';
import type { ParquetScanPlan } from '../../driver/data/parquet-inputs.js';
import type { RunInputs } from '../../driver/data/run-inputs.js';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph, type JobGraph } from '../../engine/plan/graph.js';
import type { InputSplit } from '../../engine/plan/stage-descriptor.js';
import { broadcast } from '../../engine/sql/dataframe.js';
import { exchangeSpecOf } from '../../engine/sql/planner.js';
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
  factBytes = (await stat(fact.replace('*', '0'))).size + (await stat(fact.replace('*', '1'))).size;
  dimBytes = (await stat(dim.replace('*', '0'))).size;
});

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
