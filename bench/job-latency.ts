/**
 * Job latency (issue 15 item 4): where a small job's time goes, phase by phase — starting the
 * fabric, bundling and uploading the job module, and on a warm fabric each part of a 1-stage
 * job's run: the driver's preparation, the stage descriptor and queue send, the executor's
 * pick-up (its queue listener's poll back-off), the task itself with its blob reads, and the
 * driver seeing the result — with the storage requests each run makes, counted at a proxy.
 * Then the two end-to-end targets: the 200-page PageRank driver script on the warm fabric, and
 * the README demo (`stratus run examples/wordcount.ts`) as a fresh CLI process, alone and
 * joining a running `stratus local`. The same-run baseline is the raw storage round trip
 * (queue send → receive, blob put, blob get) measured on the same Azurite in the same minute.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleBlobName, CODE_CONTAINER, DATA_CONTAINER } from '../contract/names.js';
import { bundleJobModule } from '../driver/app/bundler.js';
import { Driver } from '../driver/app/driver.js';
import { loadSubmittedModule } from '../driver/app/submit.js';
import { startAzurite } from '../driver/fabric/azurite.js';
import { startLocalFabric } from '../driver/fabric/local-fabric.js';
import type { RunEvent, RunListener } from '../driver/observe/run-events.js';
import { quantile } from '../driver/scheduler/stats.js';
import { BlobStore } from '../storage/blob-store.js';
import { connectStorage } from '../storage/connection.js';
import { StorageQueue } from '../storage/queues.js';
import { hostEnvWith, startBenchFabric } from './lib/fabric.js';
import { pickupWait } from './lib/poll-floor.js';
import { type BenchReport, type Row, ratio, verdict } from './lib/report.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ONE_STAGE = path.resolve(import.meta.dirname, 'jobs/one-stage.ts');
const PAGERANK = path.resolve(ROOT, 'examples/pagerank-driver.ts');
const CLI = path.resolve(ROOT, 'dist/driver/cli.js');

/** Options of the job-latency bench. */
export interface JobLatencyOptions {
  /** Warm 1-stage runs measured (after one warm-up run). */
  repeats: number;
  /** Also run the 200-page PageRank driver script (about a minute before this issue's fixes). */
  pagerank: boolean;
  /** Also time the README demo as CLI processes (own fabric, and joining a running `stratus local`). */
  demo: boolean;
  hostEnv?: Record<string, string>;
}

/** Run events with the time this process received each (the driver "sees" it then). */
class ArrivalRecorder implements RunListener {
  readonly events: { event: RunEvent; seenAt: number }[] = [];
  onEvent(event: RunEvent): void {
    this.events.push({ event, seenAt: Date.now() });
  }
  of<T extends RunEvent['type']>(type: T): { event: Extract<RunEvent, { type: T }>; seenAt: number }[] {
    return this.events.filter((e) => e.event.type === type) as {
      event: Extract<RunEvent, { type: T }>;
      seenAt: number;
    }[];
  }
}

/** The phases of one warm 1-stage run (ms), along its critical path (the last task). */
interface RunPhases {
  totalMs: number;
  /** run() called → job-start: bundle (cached), upload check, params, graph. */
  prepareMs: number;
  /** job-start → the last task's message sent: stage descriptor written, task messages sent. */
  submitMs: number;
  /** sent → the executor started it: the queue listener's poll back-off plus a receive. */
  pickupMs: number;
  /** started → ended at the executor: descriptor, bundle (cached per thread), the task, its result. */
  taskMs: number;
  /** ended at the executor → the driver received the event (events-queue poll). */
  seenMs: number;
  /** driver received the last task's end → run() returned (results, job-end, bookkeeping). */
  finishMs: number;
  /** Storage requests of the run by kind, driver and executors (idle polls included). */
  requests: Record<string, number>;
}

function phasesOf(recorder: ArrivalRecorder, calledAt: number, returnedAt: number): RunPhases {
  const jobStart = recorder.of('job-start')[0];
  const ends = recorder.of('task-end').filter((e) => e.event.status === 'succeeded');
  const last = ends.reduce((a, b) => (b.seenAt > a.seenAt ? b : a));
  const start = recorder
    .of('task-start')
    .find((s) => s.event.stageId === last.event.stageId && s.event.partition === last.event.partition)!;
  const startAt = jobStart?.event.at ?? calledAt;
  return {
    totalMs: returnedAt - calledAt,
    prepareMs: startAt - calledAt,
    submitMs: last.event.launchedAt - startAt,
    pickupMs: start.event.at - last.event.launchedAt,
    taskMs: last.event.at - start.event.at,
    seenMs: last.seenAt - last.event.at,
    finishMs: returnedAt - last.seenAt,
    requests: {},
  };
}

/**
 * Per stage of the recorded runs: from its first task sent to its first task started at an
 * executor — the wait for a queue listener's next poll (and a receive) at each stage boundary.
 */
function stagePickupWaits(recorder: ArrivalRecorder): number[] {
  const sent = new Map<number, number>();
  for (const { event } of recorder.of('task-end'))
    sent.set(event.stageId, Math.min(sent.get(event.stageId) ?? Infinity, event.launchedAt));
  const started = new Map<number, number>();
  for (const { event } of recorder.of('task-start'))
    started.set(event.stageId, Math.min(started.get(event.stageId) ?? Infinity, event.at));
  return [...sent].flatMap(([stageId, at]) => {
    const first = started.get(stageId);
    return first === undefined ? [] : [Math.max(0, first - at)];
  });
}

/** The same-run baseline: raw round trips on the bench's Azurite, medians of `n`. */
async function rawRoundTrips(connectionString: string, n: number) {
  const storage = connectStorage({ connectionString });
  const queue = new StorageQueue(storage, `bench-latency-floor-${process.pid}`);
  const blobs = new BlobStore(storage);
  await queue.ensure();
  const sendReceive: number[] = [];
  const put: number[] = [];
  const get: number[] = [];
  const body = Buffer.alloc(4096, 7);
  try {
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      await queue.send(JSON.stringify({ i }));
      let got = await queue.receive(1, 30);
      while (got.length === 0) got = await queue.receive(1, 30);
      sendReceive.push(performance.now() - t);
      await queue.delete(got[0]!);
      t = performance.now();
      await blobs.put(DATA_CONTAINER, `bench-latency/floor-${i}`, body);
      put.push(performance.now() - t);
      t = performance.now();
      await blobs.get(DATA_CONTAINER, `bench-latency/floor-${i}`);
      get.push(performance.now() - t);
    }
  } finally {
    await queue.destroy();
    await blobs.deletePrefix(DATA_CONTAINER, 'bench-latency/');
  }
  return {
    sendReceiveMs: quantile(sendReceive, 0.5),
    putMs: quantile(put, 0.5),
    getMs: quantile(get, 0.5),
  };
}

/** Wall time of one CLI process (ms) and its stderr; rejects when it fails. */
function timeCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve({ ms, stderr });
      else reject(new Error(`stratus ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
    });
  });
}

/** Start `stratus local` as a child process and wait for its "running" line. */
async function startStratusLocal(
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; ms: number; connection: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'local', '--executors', '2', '--slots', '2'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const connection = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const match = /^storage:\s+(\S.*)$/m.exec(out);
      if (match && /running;/.test(out)) resolve(match[1]!.trim());
    });
    child.on('exit', (code) =>
      reject(new Error(`stratus local exited ${code} before running:\n${out}\n${err}`)),
    );
  });
  return { child, ms: performance.now() - started, connection };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const ms = (v: number) => `${Math.round(v)} ms`;

/** Run the phases above and report them. */
export async function benchJobLatency(options: JobLatencyOptions): Promise<BenchReport> {
  const env = hostEnvWith(options.hostEnv);
  const rows: Row[] = [];
  const notes: string[] = [`executor host environment: ${JSON.stringify(env)}`];

  // 1. Fabric start, as `stratus run --local` pays it: Azurite alone, a whole 2 × 2 fabric (the
  // executor hosts spawned beside the starting Azurite), and the same fabric started in sequence
  // (Azurite serving first, then the hosts), as before the parallel start; medians, interleaved.
  const fabricOptions = {
    executors: 2,
    slots: 2,
    queue: 'stratus-bench-latency',
    hostEnv: env,
    log: () => undefined,
  };
  const azuriteRuns: number[] = [];
  const parallelRuns: number[] = [];
  const sequentialRuns: number[] = [];
  let t = 0;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const azurite = await startAzurite();
    azuriteRuns.push(performance.now() - t);
    await azurite.stop();
    t = performance.now();
    const cold = await startLocalFabric(fabricOptions);
    parallelRuns.push(performance.now() - t);
    await cold.stop();
    t = performance.now();
    const storage = await startAzurite();
    const sequential = await startLocalFabric({
      ...fabricOptions,
      connectionString: storage.connectionString,
    });
    sequentialRuns.push(performance.now() - t);
    await sequential.stop();
    await storage.stop();
  }
  const azuriteMs = quantile(azuriteRuns, 0.5);
  const fabricMs = quantile(parallelRuns, 0.5);
  const sequentialMs = quantile(sequentialRuns, 0.5);
  rows.push({ metric: 'fabric start: Azurite alone (median of 3)', value: ms(azuriteMs) });
  rows.push({
    metric: 'fabric start: Azurite + 2 executors × 2 slots, all ready (median of 3)',
    value: ms(fabricMs),
    note: `executors spawned beside the starting Azurite; ${ratio(fabricMs, azuriteMs)} Azurite alone`,
  });
  rows.push({
    metric: 'fabric start in sequence: Azurite serving, then the executors (median of 3)',
    value: ms(sequentialMs),
    note: `as before the parallel start; ${ratio(sequentialMs, azuriteMs)} Azurite alone`,
  });

  const fabric = await startBenchFabric({ executors: 2, slots: 2, hostEnv: env, countRequests: true });
  const recorder = new ArrivalRecorder();
  let driver: Driver | undefined;
  try {
    // 2. The same-run baseline, before any executor or driver polls (executors do poll: idle).
    const floor = await rawRoundTrips(fabric.directConnectionString, 15);
    rows.push({
      metric: 'baseline: queue send → receive (raw)',
      value: `${floor.sendReceiveMs.toFixed(1)} ms`,
      note: 'same Azurite, tight loop, median of 15',
    });
    rows.push({
      metric: 'baseline: blob put / get 4 KiB (raw)',
      value: `${floor.putMs.toFixed(1)} / ${floor.getMs.toFixed(1)} ms`,
    });
    // The least storage a 1-stage task needs on its critical path: descriptor put, task send →
    // receive, descriptor get, event send → receive (the bundle is cached per executor thread).
    const floorJobMs = 2 * floor.sendReceiveMs + floor.putMs + floor.getMs;
    rows.push({
      metric: 'baseline: critical-path storage floor of a 1-stage job',
      value: `${floorJobMs.toFixed(1)} ms`,
      note: '2 × send→receive + put + get',
    });

    // 3. Bundle and upload.
    t = performance.now();
    const bundle = await bundleJobModule(ONE_STAGE);
    const bundleFirstMs = performance.now() - t;
    t = performance.now();
    await bundleJobModule(ONE_STAGE);
    const bundleAgainMs = performance.now() - t;
    const blobs = new BlobStore(connectStorage({ connectionString: fabric.directConnectionString }));
    t = performance.now();
    await blobs.put(CODE_CONTAINER, bundleBlobName(bundle.codeHash), bundle.code);
    const uploadMs = performance.now() - t;
    rows.push({
      metric: 'bundle: first in this process',
      value: ms(bundleFirstMs),
      note: 'esbuild start + build',
    });
    rows.push({ metric: 'bundle: same module again', value: ms(bundleAgainMs) });
    rows.push({
      metric: 'upload bundle',
      value: ms(uploadMs),
      note: `${(bundle.code.length / 1024).toFixed(0)} KiB`,
    });

    // 4. Warm 1-stage runs.
    t = performance.now();
    driver = await Driver.connect({
      connectionString: fabric.connectionString,
      taskQueue: fabric.local.queue,
      totalSlots: fabric.local.totalSlots,
      listeners: [recorder],
      log: () => undefined,
    });
    rows.push({ metric: 'Driver.connect (joining a fabric)', value: ms(performance.now() - t) });
    const records = 1000;
    const expected = records * (records - 1);
    const check = (sum: unknown) => {
      if (sum !== expected) throw new Error(`one-stage job returned ${String(sum)}, expected ${expected}`);
    };
    t = performance.now();
    check(await driver.run(ONE_STAGE, { records, partitions: 4 }));
    rows.push({
      metric: '1-stage job: first run (bundle, upload, cold threads)',
      value: ms(performance.now() - t),
    });
    const runs: RunPhases[] = [];
    for (let i = 0; i < options.repeats; i++) {
      // Let the executors' poll back-off settle into its idle state, as between a user's runs.
      await new Promise((r) => setTimeout(r, 1500));
      recorder.events.length = 0;
      fabric.counter!.reset();
      const calledAt = Date.now();
      check(await driver.run(ONE_STAGE, { records, partitions: 4 }));
      const phases = phasesOf(recorder, calledAt, Date.now());
      phases.requests = fabric.counter!.snapshot().byKind;
      runs.push(phases);
    }
    const p50 = (f: (r: RunPhases) => number) => quantile(runs.map(f), 0.5);
    const total = p50((r) => r.totalMs);
    rows.push({
      metric: `1-stage job on a warm fabric, p50 of ${runs.length}`,
      value: ms(total),
      note: `${verdict(total <= 1000)} (≤ 1 s); ${ratio(total, floorJobMs)} the storage floor; max ${ms(Math.max(...runs.map((r) => r.totalMs)))}`,
    });
    const part = (name: string, f: (r: RunPhases) => number, note: string) =>
      rows.push({ metric: `↳ ${name}`, value: ms(p50(f)), note });
    part('prepare', (r) => r.prepareMs, 'run() → job-start: bundle (cached), upload check, params, graph');
    part('submit', (r) => r.submitMs, 'job-start → last task sent: stage descriptor put, queue sends');
    part('pick-up', (r) => r.pickupMs, 'sent → executor started it: listener poll back-off + receive');
    part('task', (r) => r.taskMs, 'at the executor: descriptor/bundle reads, the task, result event');
    part('driver sees', (r) => r.seenMs, 'executor ended → driver received the event (events poll)');
    part('finish', (r) => r.finishMs, 'last task seen → run() returned');
    const kinds = new Map<string, number[]>();
    for (const r of runs)
      for (const [k, v] of Object.entries(r.requests)) kinds.set(k, [...(kinds.get(k) ?? []), v]);
    rows.push({
      metric: '↳ storage requests per run (p50, by kind)',
      value: String(Math.round(p50((r) => Object.values(r.requests).reduce((a, b) => a + b, 0)))),
      note: [...kinds]
        .sort()
        .map(([k, v]) => `${k} ${quantile(v, 0.5)}`)
        .join(', '),
    });

    // 5. The 200-page PageRank driver script on the warm fabric.
    if (options.pagerank) {
      const module = await loadSubmittedModule(PAGERANK);
      if (module.kind !== 'driver-script') throw new Error(`${PAGERANK} is not a driver script`);
      recorder.events.length = 0;
      t = performance.now();
      const result = (await module.script.main(driver, { pages: 200 })) as {
        iterations: number;
        converged: boolean;
      };
      const prMs = performance.now() - t;
      const jobs = recorder.of('job-end');
      const jobMs = jobs.reduce((n, j) => {
        const start = recorder.of('job-start').find((s) => s.event.jobId === j.event.jobId);
        return n + (start ? j.event.at - start.event.at : 0);
      }, 0);
      rows.push({
        metric: `PageRank 200 pages: ${result.iterations} iterations${result.converged ? ', converged' : ', NOT converged'}`,
        value: ms(prMs),
        note: `${verdict(prMs <= 10_000)} (≤ 10 s); ${jobs.length} jobs, job time summed ${ms(jobMs)}; ${ms(prMs / result.iterations)} per iteration`,
      });
      const waits = stagePickupWaits(recorder);
      const waited = waits.reduce((a, b) => a + b, 0);
      rows.push({
        metric: '↳ stage pick-up waits, summed',
        value: ms(waited),
        note: `${waits.length} stages, median ${ms(quantile(waits, 0.5))}: first task sent → first task started (the listeners' poll back-off); job time less these waits ${ms(jobMs - waited)}`,
      });
    }
  } finally {
    await driver?.close();
    await fabric.stop();
  }

  // 6. The README demo as a user runs it: a fresh CLI process, type check included.
  if (options.demo) {
    const home = await mkdtemp(path.join(tmpdir(), 'stratus-bench-home-'));
    const demoEnv = { ...process.env, STRATUS_HOME: home, STRATUS_CONNECTION: '', ...env };
    delete (demoEnv as Record<string, string | undefined>).STRATUS_CONNECTION;
    const demoArgs = [
      'run',
      'examples/wordcount.ts',
      '--param',
      'input=examples/data/*.txt',
      '--no-event-log-dir',
    ];
    try {
      // Three runs: one CLI process on a 2-core machine varies by a second from run to run.
      const owns: number[] = [];
      for (let i = 0; i < 3; i++) owns.push((await timeCli(demoArgs, demoEnv)).ms);
      const own = { ms: quantile(owns, 0.5) };
      rows.push({
        metric: 'README demo, no fabric running (starts its own), median of 3',
        value: ms(own.ms),
        note: `${verdict(own.ms <= 4000)} (≤ 4 s incl. fabric start); runs ${owns.map((v) => ms(v)).join(', ')}`,
      });
      const local = await startStratusLocal(demoEnv);
      try {
        rows.push({ metric: '`stratus local` start → running', value: ms(local.ms) });
        const joined = await timeCli(demoArgs, demoEnv);
        const said = /joining|joined|running `?stratus local/i.exec(joined.stderr)?.[0];
        rows.push({
          metric: 'README demo, `stratus local` running (same command), its first run',
          value: ms(joined.ms),
          note: `${verdict(joined.ms <= 4000)} (≤ 4 s); ${said ? 'joined it' : 'did not join it'}`,
        });
        const again = await timeCli(demoArgs, demoEnv);
        rows.push({
          metric: 'README demo, `stratus local` running, the next run',
          value: ms(again.ms),
          note: `${verdict(again.ms <= 4000)} (≤ 4 s)`,
        });
        const byConnection = await timeCli(demoArgs, { ...demoEnv, STRATUS_CONNECTION: local.connection });
        rows.push({ metric: 'README demo, STRATUS_CONNECTION set to it', value: ms(byConnection.ms) });
      } finally {
        await stopChild(local.child);
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }
  // 7. The poll floor, from the listener's back-off itself: local (host.json) and on Azure.
  const idles = [300, 1500, 5000, 120_000];
  for (const [maxMs, what] of [
    [2000, 'host.json as shipped (2 s)'],
    [60_000, 'Azure default, no host.json setting (1 min)'],
    [500, 'host.json 00:00:00.500'],
    [100, 'the minimum, 100 ms'],
  ] as const) {
    const waits = idles.map((idle) => pickupWait(idle, maxMs).meanMs);
    rows.push({
      metric: `poll floor, maxPollingInterval ${what}`,
      value: `${waits.map((w) => `${Math.round(w)}`).join(' / ')} ms`,
      note: 'mean wait for a message sent 0.3 s / 1.5 s / 5 s / 2 min after the listener last found one',
    });
  }
  return {
    title:
      'job latency: where a small job’s time goes (fabric, bundle, upload, stage boundary), 2 executors × 2 slots',
    rows,
    notes,
  };
}
