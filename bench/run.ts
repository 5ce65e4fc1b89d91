/**
 * The benchmark runner: `npm run bench` runs every bench, `npm run bench -- <name>…` some.
 * Each prints a table and appends it to bench/RESULTS.md. Sizes default to the recorded
 * settings; `--small` runs everything at sizes that finish in a minute or two (to debug).
 *
 *   npm run bench -- throughput stages
 *   npm run bench -- sort --sort-mb 1024
 *   npm run bench -- dataframes --tpch-sf 0.1,1 --df-sort-mb 1024
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchChaos } from './chaos.js';
import { benchJobLatency } from './job-latency.js';
import { type BenchReport, captureContext, recordReport } from './lib/report.js';
import { benchMemoryCache } from './memory-cache.js';
import { benchRequests } from './requests.js';
import { benchSlots } from './slots.js';
import { benchSort } from './sort.js';
import { benchStageLatency } from './stage-latency.js';
import { benchThroughput } from './throughput.js';
import { benchDataFrames } from './tpch.js';
import { benchWordCount } from './wordcount.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    small: { type: 'boolean', default: false },
    tasks: { type: 'string' },
    repeats: { type: 'string' },
    slots: { type: 'string' },
    'split-mb': { type: 'string' },
    'wordcount-mb': { type: 'string' },
    'sort-mb': { type: 'string' },
    'slots-mb': { type: 'string' },
    'memory-mb': { type: 'string' },
    compression: { type: 'string' },
    'chaos-runs': { type: 'string' },
    'tpch-sf': { type: 'string' },
    'df-sort-mb': { type: 'string' },
    'df-memory-mb': { type: 'string' },
    'poll-ms': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'executor-node-options': { type: 'string' },
    'no-pagerank': { type: 'boolean', default: false },
    'no-demo': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

const BENCHES = [
  'throughput',
  'stages',
  'latency',
  'wordcount',
  'slots',
  'sort',
  'requests',
  'chaos',
  'dataframes',
  'memcache',
] as const;
type BenchName = (typeof BENCHES)[number];

if (values.help) {
  process.stdout.write(
    [
      `usage: npm run bench -- [${BENCHES.join('|')}]… [--small] [--tasks N] [--wordcount-mb N]`,
      '                        [--sort-mb N] [--memory-mb N] [--chaos-runs N] [--poll-ms N]',
      '  --small       debug sizes (200 tasks, 16 MB word count, 32 MB sort, 1 chaos run)',
      '  --sort-mb     sort input size (default 1024 = 1 GB of 100-byte records)',
      '  --slots-mb    word count size of the 1-slot vs 2-slot bench (default 64)',
      '  --memory-mb   per-task memory budget of the sort (default 64)',
      '  --split-mb N  sort input (and reduce) partition size in MiB (default 32)',
      '  --compression brotli|none   shuffle compression of word count and sort (default none, as on Azurite)',
      '  --slots N     slots per executor for word count and sort (default 1 = one per core here; 2 executors)',
      '  --poll-ms     executor maxPollingInterval override for every bench (default: host.json)',
      '  --executor-node-options O   extra NODE_OPTIONS for executor hosts (e.g. --max-old-space-size=160)',
      '  --tpch-sf L   dataframes: TPC-H scale factors, comma-separated (default 0.1; --small 0.01; 0 skips TPC-H)',
      '  --df-sort-mb N  dataframes: DataFrame sort input (default 1024; --small 32; 0 skips it)',
      '  --df-memory-mb N  dataframes: memory budget per task, DuckDB memory_limit (default 256)',
      '  --no-pagerank / --no-demo   latency: skip the PageRank driver script / the README demo CLI runs',
      '  --cpu-prof D  write V8 CPU profiles of every executor host (and its task threads) to folder D',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const unknown = positionals.filter((p) => !(BENCHES as readonly string[]).includes(p));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown bench ${unknown.join(', ')}; choose from ${BENCHES.join(', ')}\n`);
  process.exit(2);
}
const selected: BenchName[] = positionals.length > 0 ? (positionals as BenchName[]) : [...BENCHES];

function int(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`bench: expected a positive number, got ${value}\n`);
    process.exit(2);
  }
  return n;
}

const small = values.small === true;
const compression = values.compression;
if (compression !== undefined && compression !== 'brotli' && compression !== 'none') {
  process.stderr.write(`bench: --compression takes brotli or none, got ${compression}\n`);
  process.exit(2);
}
const nodeOptions = [
  ...(values['cpu-prof'] !== undefined
    ? [`--require ${path.resolve(import.meta.dirname, 'lib/cpu-profile.cjs')}`]
    : []),
  ...(values['executor-node-options'] !== undefined ? [values['executor-node-options']] : []),
];
const hostEnv: Record<string, string> = {
  ...(nodeOptions.length > 0 ? { NODE_OPTIONS: nodeOptions.join(' ') } : {}),
  ...(values['poll-ms'] !== undefined
    ? {
        AzureFunctionsJobHost__extensions__queues__maxPollingInterval: timeSpan(int(values['poll-ms'], 2000)),
      }
    : {}),
  ...(values['cpu-prof'] !== undefined
    ? {
        STRATUS_BENCH_PROF_DIR: path.resolve(values['cpu-prof']),
        STRATUS_BENCH_PROF_MS: process.env.STRATUS_BENCH_PROF_MS ?? '0',
      }
    : {}),
};

function timeSpan(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `00:00:${String(s).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}

const runners: Record<BenchName, () => Promise<BenchReport | BenchReport[]>> = {
  throughput: () =>
    benchThroughput({ tasks: int(values.tasks, small ? 200 : 2000), executors: 2, slots: 4, hostEnv }),
  stages: () => benchStageLatency({ repeats: int(values.repeats, small ? 1 : 5), hostEnv }),
  latency: () =>
    benchJobLatency({
      repeats: int(values.repeats, small ? 3 : 10),
      pagerank: values['no-pagerank'] !== true,
      demo: values['no-demo'] !== true,
      hostEnv,
    }),
  wordcount: () =>
    benchWordCount({
      megabytes: int(values['wordcount-mb'], small ? 16 : 256),
      slots: int(values.slots, 1),
      ...(compression ? { compression } : {}),
      hostEnv,
    }),
  slots: () => benchSlots({ megabytes: int(values['slots-mb'], small ? 16 : 64), hostEnv }),
  sort: () =>
    benchSort({
      megabytes: int(values['sort-mb'], small ? 32 : 1024),
      memoryMb: int(values['memory-mb'], small ? 8 : 64),
      slots: int(values.slots, 1),
      splitMb: int(values['split-mb'], small ? 8 : 32),
      ...(compression ? { compression } : {}),
      hostEnv,
    }),
  requests: () => benchRequests({ small, hostEnv }),
  memcache: () =>
    benchMemoryCache({
      records: small ? 20_000 : 200_000,
      partitions: 4,
      reads: 5,
      repeats: int(values.repeats, small ? 1 : 3),
      hostEnv,
    }),
  chaos: () => benchChaos({ runs: int(values['chaos-runs'], small ? 1 : 5) }),
  dataframes: () =>
    benchDataFrames({
      scales:
        values['tpch-sf'] === '0'
          ? []
          : (values['tpch-sf'] ?? (small ? '0.01' : '0.1')).split(',').map((v) => int(v, 0.1)),
      sortMb: values['df-sort-mb'] === '0' ? 0 : int(values['df-sort-mb'], small ? 32 : 1024),
      memoryMb: int(values['df-memory-mb'], 256),
      slots: int(values.slots, 1),
      hostEnv,
    }),
};

const context = captureContext();
let failed = false;
for (const name of selected) {
  process.stderr.write(`bench: ${name}…\n`);
  try {
    const reports = await runners[name]();
    for (const report of Array.isArray(reports) ? reports : [reports]) await recordReport(context, report);
  } catch (error) {
    failed = true;
    process.stderr.write(`bench: ${name} failed: ${(error as Error).stack ?? String(error)}\n`);
    await recordReport(context, {
      title: `${name}: FAILED`,
      rows: [{ metric: 'error', value: (error as Error).message.split('\n')[0] ?? 'unknown' }],
    });
  }
}
process.exitCode = failed ? 1 : 0;
