/**
 * Signed task messages: executors with a signing key run only messages the driver signed with
 * the same key. The messages refused here are real ones — taken from a driver's own run, so
 * they name a bundle and a stage descriptor that exist — and the very same bytes do run on
 * executors without a key. So the signature check alone stops them: their code never loads or
 * runs, they are quarantined in the poison queue with a security log line, and the driver they
 * claim to come from fails its job saying why.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StratusError } from '../../contract/errors.js';
import { poisonQueueName } from '../../contract/names.js';
import { decodeWire, encodeWire, type TaskMessage, taskAttemptId } from '../../contract/protocol.js';
import { signTaskMessage } from '../../contract/signing.js';
import { Driver } from '../../driver/app/driver.js';
import { type LocalFabric, startLocalFabric } from '../../driver/fabric/local-fabric.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { RecordingListener } from '../helpers/e2e.js';
import { FAST_HOST_ENV, suiteConnectionString, uniqueTaskQueue } from '../helpers/fabric.js';
import { createMarkerJob } from '../helpers/marker-job.js';
import { waitFor } from '../helpers/processes.js';

const KEY = `${'k'.repeat(20)}-signing-key-for-tests`;

let dir: string;
let markers: string;
let moduleFile: string;
/** Executors that require signatures, and executors without a key (signing off). */
let keyed: LocalFabric;
let open: LocalFabric;
/** A signing driver whose task queue no executor serves: its messages are captured, not run. */
interface CapturedRun {
  driver: Driver;
  events: RecordingListener;
  run: Promise<unknown>;
  /** Its three signed task messages, by partition. */
  signed: TaskMessage[];
}
let source: CapturedRun;
const drivers: Driver[] = [];

const storage = () => connectStorage({ connectionString: suiteConnectionString() });

/**
 * A job module with observable side effects on executors: loading it creates
 * `loaded-<task queue>`, and the task of partition p creates `ran-p<p>-<task queue>`.
 */
const MARKER_JOB_BODY = [
  'const queue = process.env.STRATUS_TASK_QUEUE;',
  "if (process.env.STRATUS_EXECUTOR_ID) writeFileSync(path.join(MARKERS, 'loaded-' + queue), '');",
  'export default defineJob((ctx) =>',
  '  ctx',
  '    .parallelize([0, 1, 2], 3)',
  '    .map((p) => {',
  "      writeFileSync(path.join(MARKERS, 'ran-p' + p + '-' + queue), '');",
  '      return p;',
  '    })',
  '    .count(),',
  ');',
];

async function markersOf(queue: string): Promise<string[]> {
  return (await readdir(markers)).filter((m) => m.endsWith(`-${queue}`)).sort();
}

function withoutSignature(message: TaskMessage): TaskMessage {
  const { signature: _signature, ...rest } = message;
  return rest;
}

/** Start a signing driver's run of the marker job on a queue nobody serves, and capture its messages. */
async function captureSignedRun(): Promise<CapturedRun> {
  const captureQueue = uniqueTaskQueue('capture');
  const events = new RecordingListener();
  const driver = await Driver.connect({
    connectionString: suiteConnectionString(),
    taskQueue: captureQueue,
    totalSlots: 3,
    signingKey: KEY,
    listeners: [events],
  });
  drivers.push(driver);
  const run = driver.run(moduleFile, {}).catch((e: unknown) => e);
  const captured = new StorageQueue(storage(), captureQueue);
  const texts = await waitFor('the driver to enqueue its 3 signed tasks', async () => {
    const peeked = await captured.peek(32);
    return peeked.length === 3 ? peeked.map((m) => m.text) : undefined;
  });
  const signed = texts.map((t) => decodeWire(t) as TaskMessage).sort((a, b) => a.partition - b.partition);
  return { driver, events, run, signed };
}

/** The refused messages, as wire text: each names the real bundle and stage descriptor. */
function forgedMessages(signed: readonly TaskMessage[]): {
  tampered: string;
  wrongKey: string;
  unsigned: string;
} {
  const [p0, , p2] = signed;
  // The driver's signature of partition 0 on a message altered to run partition 1.
  const tampered = { ...p0!, partition: 1 };
  const wrongKey = { ...withoutSignature(p2!), signature: signTaskMessage(p2!, `${KEY}-other`) };
  return {
    tampered: encodeWire(tampered),
    wrongKey: encodeWire(wrongKey),
    unsigned: encodeWire(withoutSignature(p0!)),
  };
}

beforeAll(async () => {
  ({ dir, markers, moduleFile } = await createMarkerJob('stratus-signing-', MARKER_JOB_BODY));
  const connectionString = suiteConnectionString();
  const fabric = (label: string, env: Record<string, string>) =>
    startLocalFabric({
      executors: 1,
      slots: 1,
      queue: uniqueTaskQueue(label),
      connectionString,
      hostEnv: { ...FAST_HOST_ENV, ...env },
      log: () => undefined,
    });
  [keyed, open] = await Promise.all([fabric('signed', { STRATUS_SIGNING_KEY: KEY }), fabric('open', {})]);
  source = await captureSignedRun();
});

afterAll(async () => {
  for (const driver of drivers) await driver.close();
  await Promise.all([keyed?.stop(), open?.stop()]);
  const s = storage();
  for (const f of [keyed, open]) if (f) await new StorageQueue(s, poisonQueueName(f.queue)).destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('signed task messages', () => {
  it('executors with the key quarantine tampered, wrongly signed and unsigned messages without running any of their code', async () => {
    expect(source.signed.map((m) => [m.partition, typeof m.signature])).toEqual([
      [0, 'string'],
      [1, 'string'],
      [2, 'string'],
    ]);
    const { signed } = source;
    const forged = forgedMessages(signed);
    const tasks = new StorageQueue(storage(), keyed.queue);
    for (const text of Object.values(forged)) await tasks.send(text);

    // Quarantined: the poison queue holds exactly those bytes.
    const poison = new StorageQueue(storage(), poisonQueueName(keyed.queue));
    const quarantined = await waitFor(
      'the three messages in the poison queue',
      async () => {
        const peeked = (await poison.exists()) ? await poison.peek(32) : [];
        return peeked.length >= 3 ? peeked.map((m) => m.text) : undefined;
      },
      20_000,
    );
    expect(quarantined.sort()).toEqual(Object.values(forged).sort());
    // One security line per message, naming what was wrong with it.
    const [p0] = signed;
    const executor = keyed.executors[0]!;
    const expectedLines = [
      `rejected tampered (bad signature) task message ${taskAttemptId({ ...p0!, partition: 1 })}`,
      `rejected tampered (bad signature) task message ${taskAttemptId({ ...p0!, partition: 2 })}`,
      `rejected unsigned task message ${taskAttemptId(p0!)}`,
    ];
    const securityLines = await waitFor('three security log lines', () => {
      const lines = executor
        .stderrTail()
        .split('\n')
        .filter((l) => l.startsWith('stratus executor ') && l.includes(': SECURITY: '));
      return lines.length >= 3 ? lines : undefined;
    });
    for (const line of expectedLines) {
      expect(securityLines.some((l) => l.includes(line) && l.includes('no code loaded'))).toBe(true);
    }
    // The driver they claim to come from hears why and fails its job at once.
    const error = (await source.run) as StratusError;
    expect(error.code).toBe('JOB_FAILED');
    expect(error.message).toMatch(
      /rejected the task message of stage \d+, partition \d \(attempt 0\) without running it/,
    );
    expect(error.message).toContain('STRATUS_SIGNING_KEY');
    // Never loaded, never ran: no marker, no task ever reported as started.
    expect(await markersOf(keyed.queue)).toEqual([]);
    expect(source.events.of('task-start')).toEqual([]);
  });

  it('the very same messages run on executors without a key: only the signature stopped them', async () => {
    // A run of its own: the quarantine test's refusals failed the first one, and executors drop
    // every task of a job that has ended.
    const other = await captureSignedRun();
    const tasks = new StorageQueue(storage(), open.queue);
    for (const text of Object.values(forgedMessages(other.signed))) await tasks.send(text);
    const ran = await waitFor(
      'the three tasks to run',
      async () => {
        const found = await markersOf(open.queue);
        return found.length === 4 ? found : undefined;
      },
      30_000,
    );
    expect(ran).toEqual(
      [0, 1, 2]
        .map((p) => `ran-p${p}-${open.queue}`)
        .concat(`loaded-${open.queue}`)
        .sort(),
    );
  });

  it('the same module signed by the driver runs on executors with the key', async () => {
    const driver = await Driver.connect({
      connectionString: suiteConnectionString(),
      taskQueue: keyed.queue,
      totalSlots: 1,
      signingKey: KEY,
    });
    try {
      expect(await driver.run(moduleFile, {})).toBe(3);
    } finally {
      await driver.close();
    }
    expect(existsSync(path.join(markers, `loaded-${keyed.queue}`))).toBe(true);
    expect(await markersOf(keyed.queue)).toHaveLength(4);
  });

  it('a driver without the key has its job failed at once, saying the executors require signed messages', async () => {
    const unsignedDriver = await Driver.connect({
      connectionString: suiteConnectionString(),
      taskQueue: keyed.queue,
      totalSlots: 1,
    });
    try {
      const error = (await unsignedDriver.run(moduleFile, {}).catch((e: unknown) => e)) as StratusError;
      expect(error.code).toBe('JOB_FAILED');
      expect(error.message).toContain('(unsigned)');
      expect(error.message).toContain('require signed task messages');
    } finally {
      await unsignedDriver.close();
    }
  });
});
