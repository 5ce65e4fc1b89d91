/**
 * The Azurite launcher: the local stand-in for an Azure Storage account, started by stratus
 * itself from the pinned `azurite` npm package (no Docker, no global install). Each instance
 * gets free loopback ports and a temp data folder, and runs under a watchdog so it dies with
 * the process that started it.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { StratusError } from '../../contract/errors.js';
import { type AzuriteAccount, azuriteConnectionString } from '../../storage/connection.js';
import { OutputTail, type ProcessExit, spawnWatched, type WatchedProcess } from './watchdog.js';

/** Options for `startAzurite`. */
export interface AzuriteOptions {
  /** Data folder; kept on stop. Default: a fresh temp folder, removed on stop. */
  location?: string;
  /** Pass `--silent` (no access log); default true. The output is only kept for error messages. */
  silent?: boolean;
  /** Keep all data in memory (`--inMemoryPersistence`); the data folder then only holds Azurite's debris. */
  inMemory?: boolean;
  /** How long to wait for blob and queue to answer (ms); default 30 000. */
  startTimeoutMs?: number;
  /**
   * Serve this account instead of the well-known development one (Azurite's AZURITE_ACCOUNTS,
   * which disables the default account); the handle's connection string names it.
   */
  account?: AzuriteAccount;
  /**
   * Called with the connection string as soon as an Azurite process is spawned, before it serves
   * (again for each retry on new ports): lets a caller start what will use storage meanwhile.
   */
  onSpawned?: (connectionString: string) => void;
  /** Give the start up when aborted: the Azurite begun is stopped and the start rejects. */
  signal?: AbortSignal;
}

/** A running Azurite. `stop()` is idempotent. */
export interface AzuriteHandle {
  /** Connection string for the account (the well-known development one by default) on this instance's ports. */
  readonly connectionString: string;
  readonly blobPort: number;
  readonly queuePort: number;
  readonly tablePort: number;
  /** The data folder. */
  readonly location: string;
  /** True when stop() removes the data folder (a temp one): nothing stored outlives this Azurite. */
  readonly discardsData: boolean;
  /** Azurite's own pid. */
  readonly pid: number;
  /** Resolves when Azurite exits, for whatever reason. */
  readonly exited: Promise<ProcessExit>;
  /** SIGTERM, then SIGKILL after `timeoutMs`; removes the data folder unless it was given. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Azurite did not start (ports, crash, timeout); the message carries its output tail.
 * Retryable: a port taken in a race or a start slowed by a loaded machine may pass.
 */
export class AzuriteStartError extends StratusError {
  constructor(message: string) {
    super('AZURITE_START', message, {}, { retryable: true });
    this.name = 'AzuriteStartError';
  }
}

/** The preload's URL: compiled beside this file in the package, its source when run from the repo's sources. */
function azuritePreloadUrl(): string {
  const compiled = path.join(import.meta.dirname, 'azurite-preload.js');
  return pathToFileURL(existsSync(compiled) ? compiled : path.join(import.meta.dirname, 'azurite-preload.ts'))
    .href;
}

/** Absolute path of the pinned Azurite's CLI entry (blob + queue + table in one process). */
export function azuriteEntryPath(): string {
  return createRequire(import.meta.url).resolve('azurite/dist/src/azurite.js');
}

/** A loopback port that was free a moment ago (bind port 0, read it, release it). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Start Azurite on free loopback ports and wait until blob and queue answer real requests. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const location = options.location ?? (await mkdtemp(path.join(tmpdir(), 'stratus-azurite-')));
  const removeLocation = options.location === undefined;
  // A port found free can be taken before Azurite binds it; start again on new ports then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(location, removeLocation, options);
    } catch (error) {
      const portRace = error instanceof AzuriteStartError && /EADDRINUSE/.test(error.message);
      if (!portRace || attempt >= 3) {
        if (removeLocation) await rm(location, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

async function startOnce(
  location: string,
  removeLocation: boolean,
  options: AzuriteOptions,
): Promise<AzuriteHandle> {
  const [blobPort, queuePort, tablePort] = [
    await freeLoopbackPort(),
    await freeLoopbackPort(),
    await freeLoopbackPort(),
  ];
  const args = [
    // Azurite's telemetry library stays unloaded: it is a third of the start (azurite-preload.ts).
    '--import',
    azuritePreloadUrl(),
    azuriteEntryPath(),
    // Always: no telemetry; accept the API versions newer SDKs send; ignore unsupported headers.
    ...['--disableTelemetry', '--skipApiVersionCheck', '--loose'],
    ...(options.silent === false ? [] : ['--silent']),
    // Azurite refuses --location with --inMemoryPersistence; it still runs in `location` (cwd).
    ...(options.inMemory ? ['--inMemoryPersistence'] : ['--location', location]),
    ...['--blobHost', '127.0.0.1', '--blobPort', String(blobPort)],
    ...['--queueHost', '127.0.0.1', '--queuePort', String(queuePort)],
    ...['--tableHost', '127.0.0.1', '--tablePort', String(tablePort)],
  ];
  // Created again for a retry on new ports: the watchdog of the failed attempt removed it.
  await mkdir(location, { recursive: true });
  const azurite = spawnWatched(process.execPath, args, {
    cwd: location,
    // The watchdog removes a temp data folder even if we exit before stop() could (second Ctrl-C).
    ...(removeLocation ? { removeOnExit: location } : {}),
    ...(options.account
      ? { env: { ...process.env, AZURITE_ACCOUNTS: `${options.account.name}:${options.account.key}` } }
      : {}),
  });
  const output = new OutputTail();
  azurite.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  azurite.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  const connectionString = azuriteConnectionString(blobPort, queuePort, '127.0.0.1', options.account);
  try {
    const pid = await azurite.started;
    options.onSpawned?.(connectionString);
    await waitUntilServing(
      connectionString,
      azurite,
      output,
      options.startTimeoutMs ?? 30_000,
      options.signal,
    );
    let stopped: Promise<void> | undefined;
    return {
      connectionString,
      blobPort,
      queuePort,
      tablePort,
      location,
      discardsData: removeLocation,
      pid,
      exited: azurite.exited,
      stop(timeoutMs = 10_000) {
        stopped ??= (async () => {
          await azurite.stop(timeoutMs);
          if (removeLocation) await rm(location, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (error) {
    await azurite.stop(2_000);
    if (error instanceof AzuriteStartError) throw error;
    throw new AzuriteStartError(`Azurite did not start: ${(error as Error).message}\n${output}`);
  }
}

/** Poll an authenticated service-properties request on blob and queue until both answer. */
async function waitUntilServing(
  connectionString: string,
  azurite: WatchedProcess,
  output: OutputTail,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const aborted = new Promise<void>((resolve) =>
    signal?.addEventListener('abort', () => resolve(), { once: true }),
  );
  // One try per poll: the SDK's own retries would stretch each poll to seconds.
  const pipeline = { retryOptions: { maxTries: 1, tryTimeoutInMs: 2_000 } };
  const blob = BlobServiceClient.fromConnectionString(connectionString, pipeline);
  const queue = QueueServiceClient.fromConnectionString(connectionString, pipeline);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (signal?.aborted) throw new Error('its start was cancelled');
    if (azurite.hasExited) {
      const exit = await azurite.exited;
      throw new AzuriteStartError(
        `Azurite exited during start (code ${exit.code}, signal ${exit.signal}):\n${output}`,
      );
    }
    try {
      await Promise.all([blob.getProperties(), queue.getProperties()]);
      return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new AzuriteStartError(
        `Azurite did not answer on blob/queue within ${timeoutMs} ms ` +
          `(last error: ${(lastError as Error)?.message}):\n${output}`,
      );
    }
    // Wait for the next poll, or for Azurite to exit, whichever comes first.
    await Promise.race([new Promise((resolve) => setTimeout(resolve, 50)), azurite.exited, aborted]);
  }
}
