/**
 * The Dataset ⇄ DataFrame bridge on one large partition, in one process (the local runner of
 * test/sql, which runs every task the scheduler would, with files for blobs): a Parquet file of
 * `rows` rows, one split, through `df.rdd()`, a Dataset map, and `toDF` back into a DataFrame
 * whose rows DuckDB sums. Prints the wall time and the process's peak RSS (getrusage's maxrss),
 * beside the RSS before the run, so runs of two trees on the same machine compare.
 *
 *   npm run build && node --import ./bench/register.mjs bench/bridge-memory.ts [rows]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { defineJob } from '../engine/dataset/job.js';
import { runDataFrameJob } from '../test/sql/local-dataframe-runner.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const dir = await mkdtemp(path.join(tmpdir(), 'stratus-bridge-bench-'));
const file = path.join(dir, 'rows.parquet');
try {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  await connection.run(
    `COPY (SELECT i AS id, 'name-' || i AS name, i / 7.0 AS ratio, DATE '2024-01-01' + CAST(i % 365 AS INTEGER) AS day
       FROM range(${rows}) t(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 1000000000)`,
  );
  connection.closeSync();
  const job = defineJob((ctx, p: { file: string }) => {
    ctx.read
      .parquet(p.file)
      .rdd()
      .map((r) => ({ id: r.id as number, len: (r.name as string).length }))
      .toDF('id LONG, len INT')
      .createOrReplaceTempView('t');
    return ctx.sql('SELECT count(*) AS n, sum(id) AS ids, sum(len) AS lens FROM t').collect();
  });
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const result = await runDataFrameJob(job, { file }, { defaultParallelism: 1 });
  const seconds = (performance.now() - started) / 1000;
  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
  console.log(
    JSON.stringify({
      rows,
      seconds: Number(seconds.toFixed(2)),
      rssBefore: mib(before),
      peakRss: mib(process.resourceUsage().maxRSS * 1024),
      loadavg: loadavg().map((l) => l.toFixed(2)),
      result,
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
