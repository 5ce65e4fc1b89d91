/**
 * Storage requests of one shuffle at several (M, R), counted at a pass-through proxy in front
 * of Azurite (driver and executor processes alike), against the model of docs/scale.md:
 * M map-output writes, one range read per non-empty (map, reduce) segment (M × R here), and per
 * task one send, one receive, one delete and two events, plus small cached reads per thread.
 */
import path from 'node:path';
import { Driver } from '../driver/app/driver.js';
import { hostEnvWith, startBenchFabric } from './lib/fabric.js';
import type { BenchReport, Row } from './lib/report.js';

const JOB = path.resolve(import.meta.dirname, 'jobs/shuffle.ts');

/** Options of the request-count bench. */
export interface RequestsOptions {
  small: boolean;
  hostEnv?: Record<string, string>;
}

/** Run each (M, R) once on 2 executors × 2 slots and compare counts with the model. */
export async function benchRequests(options: RequestsOptions): Promise<BenchReport> {
  const shapes: [number, number][] = options.small
    ? [
        [4, 4],
        [8, 8],
      ]
    : [
        [4, 4],
        [8, 8],
        [16, 16],
        [32, 8],
        [8, 32],
      ];
  const env = hostEnvWith(options.hostEnv);
  const fabric = await startBenchFabric({ executors: 2, slots: 2, hostEnv: env, countRequests: true });
  const rows: Row[] = [];
  let driver: Driver | undefined;
  try {
    driver = await Driver.connect({
      connectionString: fabric.connectionString,
      taskQueue: fabric.local.queue,
      totalSlots: fabric.local.totalSlots,
      log: () => undefined,
    });
    // Warm-up: bundle upload and per-thread caches of the first run are not the steady state.
    await driver.run(JOB, { maps: 4, reduces: 4, records: 8192 });
    for (const [M, R] of shapes) {
      fabric.counter!.reset();
      const started = Date.now();
      const distinct = await driver.run(JOB, { maps: M, reduces: R, records: 64 * 4096 });
      const seconds = (Date.now() - started) / 1000;
      if (distinct !== 4096) throw new Error(`shuffle job returned ${String(distinct)}, expected 4096`);
      const c = fabric.counter!.snapshot();
      const k = (name: string) => c.byKind[name] ?? 0;
      const tasks = M + R;
      rows.push({
        metric: `M=${M} R=${R}: shuffle range reads`,
        value: String(k('blob:read:map-output')),
        note: `model M×R = ${M * R} (all segments non-empty, each under 4 MiB: one request)`,
      });
      rows.push({
        metric: `M=${M} R=${R}: map-output writes / other blob writes`,
        value: `${k('blob:put:map-output')} / ${
          c.total === 0
            ? 0
            : Object.entries(c.byKind)
                .filter(([kind]) => kind.startsWith('blob:put') && kind !== 'blob:put:map-output')
                .reduce((n, [, v]) => n + v, 0)
        }`,
        note: `model M = ${M}; others: 2 stage descriptors, 1 map-output table, lease renewals, event log appends`,
      });
      rows.push({
        metric: `M=${M} R=${R}: task queue send / delete`,
        value: `${k('queue:send')} / ${k('queue:delete')}`,
        note: `model sends = ${tasks} tasks + ${2 * tasks} events = ${3 * tasks}; deletes = ${tasks}`,
      });
      rows.push({
        metric: `M=${M} R=${R}: receives (all queues)`,
        value: String(k('queue:receive')),
        note: `≥ ${tasks} task deliveries; the rest are idle polls of executors and driver over ${seconds.toFixed(1)} s`,
      });
      rows.push({
        metric: `M=${M} R=${R}: all requests`,
        value: String(c.total),
        note: Object.entries(c.byKind)
          .sort()
          .map(([kind, n]) => `${kind} ${n}`)
          .join(', '),
      });
    }
  } finally {
    await driver?.close();
    await fabric.stop();
  }
  return {
    title: 'storage requests of one shuffle at several (M, R), counted at a proxy in front of Azurite',
    rows,
    notes: [
      'Events are received 32 per request and hidden, not deleted; the driver peeks the poison queue every 2 s and renews its lease blob; executors read descriptors, tables and bundles once per thread.',
      `executor host environment: ${JSON.stringify(env)}`,
    ],
  };
}
