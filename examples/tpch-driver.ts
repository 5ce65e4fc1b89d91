/**
 * A driver script over Parquet: generates TPC-H-style tables at a scale factor with DuckDB on the
 * driver (examples/lib/tpch-gen.ts: six tables, the big ones in several files of several row
 * groups), then runs TPC-H Q3 (shipping priority) and Q5 (local supplier volume) — joins and
 * aggregations written with the DataFrame API in tpch.ts — on the executors. Pass `dir` to keep
 * (and reuse) the generated tables; without it they go to a temporary folder removed afterwards.
 *
 *   stratus run examples/tpch-driver.ts --param scale=0.05
 *   stratus run examples/tpch-driver.ts --param scale=0.1 --param dir=/tmp/tpch-sf0.1 --param queries=q1,q3,q5,q6
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineDriverScript } from 'stratus/driver';
import { generateTpch } from './lib/tpch-gen.js';
import tpch from './tpch.js';

/** Params of the TPC-H driver script. */
export interface TpchDriverParams {
  /** TPC-H scale factor (default 0.01: 60,000 line items). */
  scale?: number;
  /** Folder for the tables (kept; reused when it holds the same scale). Default: a temporary folder. */
  dir?: string;
  /** Queries to run (default `q3,q5`). */
  queries?: string;
  shufflePartitions?: number;
}

export default defineDriverScript(async (driver, p: TpchDriverParams) => {
  const dir = p.dir ?? (await mkdtemp(path.join(tmpdir(), 'stratus-tpch-')));
  try {
    const started = performance.now();
    const data = await generateTpch({ dir, scale: p.scale ?? 0.01 });
    process.stderr.write(
      `tpch: ${data.rows.lineitem} line items, ${data.rows.orders} orders, ${(data.bytes / 1024 / 1024).toFixed(1)} MiB of Parquet in ${dir} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
    );
    return await driver.run(tpch, {
      dir,
      queries: p.queries ?? 'q3,q5',
      ...(p.shufflePartitions !== undefined ? { shufflePartitions: p.shufflePartitions } : {}),
    });
  } finally {
    if (p.dir === undefined) await rm(dir, { recursive: true, force: true });
  }
});
