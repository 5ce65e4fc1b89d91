/**
 * The chaos run of issue 5, repeated: test/faults/chaos.test.ts's scenarios (a global sort and a
 * join on 3 executors while a random executor is killed every 2.5 s and a quarter of the task
 * messages are delivered twice; the same over DataFrame joins and aggregations, TPC-H Q3 and Q5,
 * compared with single-process DuckDB) run `runs` times in a row, each in a fresh vitest process with its
 * own Azurite. A run passes only if its answers equal plain JS in full — every sorted record in
 * its global position (line by line and by checksum), the job's own order check, every joined
 * customer — so this bench checks exactly what the test checks: the test file is the single
 * source of the scenario; this bench only repeats it and records pass/fail and durations.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BenchReport, type Row, seconds } from './lib/report.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs');

interface VitestJson {
  testResults: {
    assertionResults: { title: string; status: string; duration?: number; failureMessages: string[] }[];
  }[];
}

/** Run the chaos test once; resolves with its status and durations. */
async function runOnce(): Promise<{ passed: boolean; testMs: number; wallMs: number; failure?: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stratus-bench-chaos-'));
  const out = path.join(dir, 'result.json');
  const started = performance.now();
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [VITEST, 'run', 'test/faults/chaos.test.ts', '-t', 'chaos', '--reporter=json', `--outputFile=${out}`],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.on('error', reject);
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const wallMs = performance.now() - started;
  try {
    const json = JSON.parse(await readFile(out, 'utf8')) as VitestJson;
    // The chaos tests (the sort and join; the DataFrame queries): a run passes when all of them do.
    const tests = json.testResults.flatMap((r) => r.assertionResults).filter((a) => a.status !== 'skipped');
    const failure = tests.flatMap((t) => t.failureMessages)[0]?.split('\n')[0];
    return {
      passed: code === 0 && tests.length > 0 && tests.every((t) => t.status === 'passed'),
      testMs: tests.reduce((ms, t) => ms + (t.duration ?? 0), 0),
      wallMs,
      ...(failure ? { failure } : {}),
    };
  } catch {
    return { passed: false, testMs: 0, wallMs, failure: `vitest exited with ${code} and no report` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Repeat the chaos scenario `runs` times in a row. */
export async function benchChaos(options: { runs: number }): Promise<BenchReport> {
  const rows: Row[] = [];
  let passed = 0;
  for (let i = 1; i <= options.runs; i++) {
    process.stderr.write(`  chaos run ${i}/${options.runs}…\n`);
    const r = await runOnce();
    if (r.passed) passed++;
    rows.push({
      metric: `run ${i}`,
      value: r.passed ? 'pass' : 'FAIL',
      note: `test ${seconds(r.testMs)}, with vitest and Azurite start ${seconds(r.wallMs)}${r.failure ? `; ${r.failure}` : ''}`,
    });
  }
  rows.push({
    metric: 'passed',
    value: `${passed}/${options.runs}`,
    note: passed === options.runs ? 'all passed' : 'NOT all passed',
  });
  return {
    title: `chaos (issue 5, DataFrames issue 14): sort + join, and TPC-H Q3 + Q5 as DataFrames, on 3 executors, kills every 2.5 s, 25 % duplicate task messages, answers compared in full with plain JS, ${options.runs} runs in a row`,
    rows,
  };
}
