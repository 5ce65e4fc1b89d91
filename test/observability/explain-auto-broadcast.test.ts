/**
 * `stratus explain` plans a join of a small file scan as a run does: the scans' sizes from its
 * listing (for Parquet the compressed chunks of the columns the scan reads, from the footers, as
 * DuckDB's parquet_metadata reports them), a broadcast of the small side at most
 * spark.sql.autoBroadcastJoinThreshold, both sides shuffled at -1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainModule } from '../../driver/observe/explain.js';
import { referenceRows, writeTable } from '../sql/tpch-data.js';

const JOB = path.resolve(import.meta.dirname, '../e2e/jobs/dataframe-auto-broadcast-blobs.ts');

let dir: string;
let fact: string;
let dim: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-explain-autobcast-'));
  const factRows = Array.from({ length: 4000 }, (_, i) => ({ f_id: i, dim: i % 9, amount: i * 0.5 }));
  const dimRows = Array.from({ length: 6 }, (_, i) => ({ dim: i, label: `d${i}` }));
  fact = await writeTable(
    dir,
    'fact',
    factRows,
    { f_id: 'BIGINT', dim: 'INTEGER', amount: 'DOUBLE' },
    'parquet',
    2,
  );
  dim = await writeTable(dir, 'dim', dimRows, { dim: 'INTEGER', label: 'VARCHAR' }, 'parquet', 1);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('stratus explain and the automatic broadcast', () => {
  it('shows the small Parquet side broadcast by the chunks of the columns it reads, and shuffles both sides at -1', async () => {
    // First planned far above any size, to learn the columns the dimension's scan reads.
    const wide = await explainModule(JOB, { fact, dim, threshold: 1 << 30 }, { slots: 2 });
    const read = wide.sources.find((s) => s.uri === dim)?.parquet?.readColumns;
    expect(read?.length).toBeGreaterThan(0);
    const quoted = read!.map((c) => `'${c}'`).join(', ');
    const [chunks] = await referenceRows(
      `SELECT sum(total_compressed_size)::BIGINT AS bytes FROM parquet_metadata('${dim}') WHERE lower(path_in_schema) IN (${quoted})`,
    );
    const dimBytes = Number(chunks!.bytes);
    expect(dimBytes).toBeGreaterThan(0);
    const auto = await explainModule(JOB, { fact, dim, threshold: dimBytes }, { slots: 2 });
    const off = await explainModule(JOB, { fact, dim, threshold: -1 }, { slots: 2 });
    const partitioners = (e: typeof auto) =>
      e.jobs.flatMap((j) => j.stages.map((s) => s.shuffleWrite?.partitioner ?? 'result'));
    // The count job: a broadcast map stage, then the fact side's stage joins it (no exchange of its own).
    expect(auto.totals.stages).toBeLessThan(off.totals.stages);
    expect(JSON.stringify(auto)).toContain('broadcastExchange');
    expect(JSON.stringify(off)).not.toContain('broadcastExchange');
    expect(partitioners(off).filter((p) => p === 'hash').length).toBeGreaterThanOrEqual(2);
    // One byte under the dimension's chunks: not small enough.
    const under = await explainModule(JOB, { fact, dim, threshold: dimBytes - 1 }, { slots: 2 });
    expect(JSON.stringify(under)).not.toContain('broadcastExchange');
    // Each source node still names its own listing after the rebuild (the fact scan, not exchanged,
    // is a node per action: count and explain).
    expect([...new Set(auto.sources.map((s) => s.uri))].sort()).toEqual([dim, fact].sort());
    for (const source of auto.sources)
      expect(auto.sources.filter((s) => s.nodeId === source.nodeId)).toHaveLength(1);
    expect(auto.sources.find((s) => s.uri === dim)?.bytes).toBe(dimBytes);
  });
});
