/**
 * With a signing key, the signature covers everything that decides what runs, not only the task
 * message: the message pins the stage descriptor by sha256, and the descriptor pins the blobs the
 * driver wrote for the stage (broadcast values, map-output tables). Someone who can write to
 * stratus-data but not sign messages alters one of them after submission: the executors refuse
 * the task before any of the job's code runs for it — no marker of the altered input appears —
 * quarantine the message with a security log line, and the driver fails the job saying so.
 *
 * The driver sends its signed messages to a queue no executor serves; the test forwards them,
 * byte for byte, to the executors' queue, altering a blob first where the test says.
 */
import { readdir, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StratusError } from '../../contract/errors.js';
import { DATA_CONTAINER, poisonQueueName } from '../../contract/names.js';
import { decodeWire, type StageWork, type TaskMessage } from '../../contract/protocol.js';
import { Driver } from '../../driver/app/driver.js';
import { type LocalFabric, startLocalFabric } from '../../driver/fabric/local-fabric.js';
import { encodeBroadcastValue } from '../../engine/dataset/shared-variables.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { FAST_HOST_ENV, suiteConnectionString, uniqueTaskQueue } from '../helpers/fabric.js';
import { createMarkerJob } from '../helpers/marker-job.js';
import { waitFor } from '../helpers/processes.js';

const KEY = `${'s'.repeat(20)}-signing-key-for-blob-tests`;

let dir: string;
let markers: string;
let moduleFile: string;
let keyed: LocalFabric;
let blobs: BlobStore;

const storage = () => connectStorage({ connectionString: suiteConnectionString() });

/**
 * A job with a broadcast and a shuffle whose executors leave markers: `loaded` when a task
 * thread imports the module, `map-<params.tag>-<broadcast value>` per map record and
 * `reduce-<params.tag>` per reduced key.
 */
const MARKER_JOB_BODY = [
  "const mark = (name) => writeFileSync(path.join(MARKERS, name), '');",
  "if (process.env.STRATUS_EXECUTOR_ID) mark('loaded');",
  'export default defineJob((ctx, p) => {',
  '  const tag = ctx.broadcast(p.tag);',
  '  return ctx',
  '    .parallelize([0, 1, 2, 3], 2)',
  '    .map((x) => {',
  "      mark('map-' + p.tag + '-' + tag.value);",
  '      return [x % 2, x];',
  '    })',
  '    .reduceByKey((a, b) => a + b, 2)',
  '    .map(([k, v]) => {',
  "      mark('reduce-' + p.tag);",
  '      return [k, v];',
  '    })',
  '    .collect();',
  '});',
];

const markersNow = async () => (await readdir(markers)).sort();

/** What the test may do to the account before a stage's first message goes on to the executors. */
type Tamper = (work: StageWork, descriptor: Record<string, unknown>) => Promise<void>;

/**
 * Run the marker job with a signing driver whose messages go through the test: before the first
 * message of each stage is forwarded, `tamper` sees the stage's work and descriptor. Resolves
 * with the run's result or error, the driver's app id and the messages forwarded.
 */
async function runThroughForwarder(tag: string, tamper: Tamper) {
  const capture = new StorageQueue(storage(), uniqueTaskQueue('sb-capture'));
  const target = new StorageQueue(storage(), keyed.queue);
  const driver = await Driver.connect({
    connectionString: suiteConnectionString(),
    taskQueue: capture.name,
    totalSlots: 2,
    signingKey: KEY,
    speculation: { enabled: false },
    eventLog: false,
  });
  const forwarded: TaskMessage[] = [];
  const seenStages = new Set<string>();
  let stopped = false;
  const pump = (async () => {
    while (!stopped) {
      const received = await capture.receive(32, 30);
      for (const m of received) {
        const message = decodeWire(m.text) as TaskMessage;
        const work = message.work as StageWork;
        if (!seenStages.has(work.stageBlob)) {
          seenStages.add(work.stageBlob);
          const descriptor = JSON.parse((await blobs.get(DATA_CONTAINER, work.stageBlob)).toString('utf8'));
          await tamper(work, descriptor);
        }
        await target.send(m.text);
        await capture.delete(m);
        forwarded.push(message);
      }
      // The polling interval of the forwarder, not a wait for any state.
      if (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    const outcome: { result?: unknown; error?: StratusError } = await driver.run(moduleFile, { tag }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error: error as StratusError }),
    );
    return { ...outcome, appId: driver.appId, forwarded };
  } finally {
    stopped = true;
    await pump;
    await driver.close();
    await capture.destroy();
  }
}

/** The executor's security lines that name `text`. */
function securityLines(text: string): string[] {
  return keyed.executors
    .flatMap((e) => e.stderrTail().split('\n'))
    .filter((l) => l.startsWith('stratus executor ') && l.includes(': SECURITY: ') && l.includes(text));
}

/** The application's messages in the executors' poison queue. */
async function quarantinedOf(appId: string): Promise<TaskMessage[]> {
  const poison = new StorageQueue(storage(), poisonQueueName(keyed.queue));
  if (!(await poison.exists())) return [];
  return (await poison.peek(32))
    .map((m) => decodeWire(m.text) as TaskMessage)
    .filter((m) => m.appId === appId);
}

function expectRefusal(error: StratusError | undefined, what: string): void {
  expect(error?.code).toBe('JOB_FAILED');
  expect(error?.message).toMatch(
    /rejected the task message of stage \d+, partition \d \(attempt 0\) without running it \(tampered-blob\)/,
  );
  expect(error?.message).toContain(`${what} ${DATA_CONTAINER}/apps/`);
  expect(error?.message).toContain('does not match the sha256 its task pins');
  expect(error?.message).toContain(
    'something other than this driver can write to the stratus-data container',
  );
}

beforeAll(async () => {
  ({ dir, markers, moduleFile } = await createMarkerJob('stratus-signed-blobs-', MARKER_JOB_BODY));
  blobs = new BlobStore(storage());
  keyed = await startLocalFabric({
    executors: 1,
    slots: 2,
    queue: uniqueTaskQueue('signed-blobs'),
    connectionString: suiteConnectionString(),
    hostEnv: { ...FAST_HOST_ENV, STRATUS_SIGNING_KEY: KEY },
    log: () => undefined,
  });
});

afterAll(async () => {
  await keyed?.stop();
  if (keyed) await new StorageQueue(storage(), poisonQueueName(keyed.queue)).destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('signing pins the blobs that decide what runs', () => {
  it('a stage descriptor whose params were changed after submission is refused before any code runs', async () => {
    const run = await runThroughForwarder('d', async (work, descriptor) => {
      // Same blob name, same size class, a different tag: the rebuilt job would mark `map-evil-…`.
      await blobs.put(
        DATA_CONTAINER,
        work.stageBlob,
        JSON.stringify({ ...descriptor, params: { tag: 'evil' } }),
      );
    });
    expectRefusal(run.error, 'stage descriptor');
    expect(await markersNow()).toEqual([]);
    const lines = await waitFor('the security line', () => {
      const found = securityLines('stage descriptor');
      return found.length > 0 ? found : undefined;
    });
    expect(lines[0]).toContain('does not match the sha256 its task pins');
    expect(lines[0]).toContain('none of the job code ran for it');
    const quarantined = await waitFor('the message in the poison queue', async () => {
      const found = await quarantinedOf(run.appId);
      return found.length > 0 ? found : undefined;
    });
    expect(quarantined.every((m) => typeof m.signature === 'string')).toBe(true);
  });

  it('a broadcast value replaced after submission is refused before any code runs', async () => {
    const run = await runThroughForwarder('b', async (_work, descriptor) => {
      const broadcasts = descriptor.broadcasts as Record<string, { blob: string }>;
      for (const [id, { blob }] of Object.entries(broadcasts)) {
        await blobs.put(DATA_CONTAINER, blob, encodeBroadcastValue(Number(id), 'evil'));
      }
    });
    expectRefusal(run.error, 'broadcast value');
    expect(await markersNow()).toEqual([]);
    expect(
      await waitFor('the security line', () => securityLines('broadcast value').length > 0 || undefined),
    ).toBe(true);
  });

  it('a map-output table changed between the stages is refused before the reduce side runs', async () => {
    const run = await runThroughForwarder('t', async (_work, descriptor) => {
      const shuffles = descriptor.shuffles as Record<string, { tableBlob: string }>;
      for (const { tableBlob } of Object.values(shuffles)) {
        const table = JSON.parse((await blobs.get(DATA_CONTAINER, tableBlob)).toString('utf8'));
        // Point every map partition at the first one's output: a redirect of the reduce's input.
        table.outputs = table.outputs.map(() => table.outputs[0]);
        await blobs.put(DATA_CONTAINER, tableBlob, JSON.stringify(table));
      }
    });
    expectRefusal(run.error, 'map-output table');
    // The map side ran (its blobs were not touched); nothing of the reduce side did.
    expect(await markersNow()).toEqual(['loaded', 'map-t-t']);
    expect(
      await waitFor('the security line', () => securityLines('map-output table').length > 0 || undefined),
    ).toBe(true);
  });

  it('the same job with nothing altered runs on the keyed executors, every pinned blob verified', async () => {
    const run = await runThroughForwarder('ok', async () => undefined);
    expect(run.error).toBeUndefined();
    expect(run.result).toEqual([
      [0, 2],
      [1, 4],
    ]);
    expect((await markersNow()).filter((m) => m.endsWith('-ok') || m.includes('-ok-'))).toEqual([
      'map-ok-ok',
      'reduce-ok',
    ]);
    // Every message named its descriptor's hash, under the signature.
    expect(run.forwarded.every((m) => /^[0-9a-f]{64}$/.test((m.work as StageWork).stageHash ?? ''))).toBe(
      true,
    );
  });
});
