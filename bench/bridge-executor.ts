/**
 * The Dataset ⇄ DataFrame bridge on executors: one Parquet split of `rows` rows through
 * `df.rdd()`, a Dataset map and `toDF` into SQL (test/e2e/jobs/dataframe-bridge-large.ts), on one
 * executor with one slot and a 1 MiB task budget, its own Azurite. Prints the job's wall time
 * and the executor process's RSS before the run and its peak during it (sampled every 100 ms, as
 * the other benchmarks do), with the load average: compare two trees in the same session.
 *
 *   npm run build && node --import ./bench/register.mjs bench/bridge-executor.ts [rows]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Driver } from '../driver/app/driver.js';
import { hostEnvWith, RssSampler, readRss, startBenchFabric } from './lib/fabric.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const JOB = path.resolve(import.meta.dirname, '../test/e2e/jobs/dataframe-bridge-large.ts');
const dir = await mkdtemp(path.join(tmpdir(), 'stratus-bridge-exec-'));
const file = path.join(dir, 'rows.parquet');
const db = await DuckDBInstance.create(':memory:');
const connection = await db.connect();
// One row group: one split, so one task holds the whole partition on each side of the bridge.
await connection.run(
  `COPY (SELECT i AS id, 'name-' || i AS name, i / 8 AS amount FROM range(${rows}) t(i))
   TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE ${rows * 2})`,
);
connection.closeSync();
const fabric = await startBenchFabric({ executors: 1, slots: 1, hostEnv: hostEnvWith() });
let driver: Driver | undefined;
try {
  const pid = fabric.local.executors[0]!.pid;
  const idle = await readRss(pid);
  driver = await Driver.connect({
    connectionString: fabric.connectionString,
    taskQueue: fabric.local.queue,
    totalSlots: fabric.local.totalSlots,
    memoryBudgetBytes: 1024 * 1024,
    log: () => undefined,
  });
  const sampler = new RssSampler(fabric.local, 100);
  sampler.start();
  const started = performance.now();
  const result = (await driver.run(JOB, { file })) as { n: number }[];
  const seconds = (performance.now() - started) / 1000;
  sampler.stop();
  const mib = (b: number | undefined) => (b === undefined ? 'n/a' : `${(b / 2 ** 20).toFixed(0)} MiB`);
  console.log(
    JSON.stringify({
      rows,
      seconds: Number(seconds.toFixed(1)),
      executorRssBefore: mib(idle),
      executorPeakRss: mib(sampler.peaks.get(pid)?.peakBytes),
      rowsBack: result.reduce((n, r) => n + Number(r.n), 0),
      loadavg: loadavg().map((l) => l.toFixed(2)),
    }),
  );
} finally {
  await driver?.close();
  await fabric.stop();
  await rm(dir, { recursive: true, force: true });
}
