/**
 * `stratus ui`'s web server: node:http serving one static page (static/) and a small JSON
 * API over event logs. Loopback only by default: the logs name blobs, files and errors.
 *
 *   GET /api/apps                        applications, newest first
 *   GET /api/apps/:appId                 the run summary: jobs, stages, executors, totals
 *   GET /api/apps/:appId/stages/:id      a stage's task attempts and summary quantiles
 *   GET /api/apps/:appId/timeline        every task attempt with executor, slot, start, end, outcome
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StratusError } from '../../../contract/errors.js';
import { packageRoot } from '../../../contract/package-root.js';
import { redactDeep } from '../../../contract/redaction.js';
import { quantiles, type TaskAttemptRecord } from '../run-summary.js';
import { ApplicationStore, type UiSource, UnknownApplicationError } from './app-store.js';

export type { UiSource } from './app-store.js';

/** Options of startUiServer. */
export interface UiServerOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Where the event logs are; several sources are listed together. */
  source: UiSource | readonly UiSource[];
}

/** A running UI server. */
export interface UiServer {
  url: string;
  close(): Promise<void>;
}

const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** The static page's folder: beside this file in sources, `driver/observe/ui/static` of the package from dist/. */
function staticDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'static'),
    path.join(packageRoot(), 'driver', 'observe', 'ui', 'static'),
  ];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
  if (!found)
    throw new Error(`stratus ui: the page's files are missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** Summary quantiles of a stage's winning attempts, per metric (Spark's stage page). */
export function stageQuantiles(attempts: readonly TaskAttemptRecord[]) {
  const won = attempts.filter((a) => a.status === 'succeeded');
  const of = (f: (a: TaskAttemptRecord) => number | undefined) =>
    quantiles(won.map(f).filter((v): v is number => v !== undefined)) ?? null;
  return {
    durationMs: of((a) => a.durationMs),
    schedulerDelayMs: of((a) => (a.startedAt !== undefined ? a.startedAt - a.launchedAt : undefined)),
    recordsRead: of((a) => a.metrics?.recordsRead),
    recordsWritten: of((a) => a.metrics?.recordsWritten),
    shuffleReadBytes: of((a) => a.metrics?.shuffleReadBytes),
    shuffleWriteBytes: of((a) => a.metrics?.shuffleWriteBytes),
    peakMemoryBytes: of((a) => a.metrics?.peakMemoryBytes),
    spillBytes: of((a) => a.metrics?.spillBytes),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  // Logs written elsewhere (another driver, an older release) may hold secrets: never serve them.
  const text = JSON.stringify(redactDeep(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

async function route(store: ApplicationStore, dir: string, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (req.method !== 'GET') return sendJson(res, 405, { error: 'only GET' });
  if (parts[0] !== 'api') {
    const asset = STATIC_FILES[url.pathname];
    if (!asset) return sendJson(res, 404, { error: `not found: ${url.pathname}` });
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
    res.end(await readFile(path.join(dir, asset.file)));
    return;
  }
  if (parts[1] !== 'apps') return sendJson(res, 404, { error: 'unknown API' });
  if (parts.length === 2) return sendJson(res, 200, { source: store.describe(), apps: await store.list() });
  const builder = await store.application(parts[2]!);
  if (parts.length === 3) return sendJson(res, 200, { summary: builder.summary() });
  if (parts[3] === 'timeline' && parts.length === 4) {
    return sendJson(res, 200, { attempts: builder.attempts() });
  }
  if (parts[3] === 'stages' && parts.length === 5) {
    const stageId = Number(parts[4]);
    const stage = builder.summary().stages.find((s) => s.stageId === stageId);
    if (!stage) return sendJson(res, 404, { error: `no stage ${parts[4]}` });
    const attempts = builder.stageAttempts(stageId);
    return sendJson(res, 200, { stage, attempts, quantiles: stageQuantiles(attempts) });
  }
  return sendJson(res, 404, { error: 'unknown API' });
}

/** Start the UI server; resolves once it listens. */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const store = new ApplicationStore(options.source);
  const dir = staticDir();
  const server = createServer((req, res) => {
    route(store, dir, req, res).catch((error: unknown) => {
      const notFound =
        error instanceof UnknownApplicationError ||
        (error instanceof StratusError && error.code === 'EVENT_LOG_NOT_FOUND');
      if (!res.headersSent) sendJson(res, notFound ? 404 : 500, { error: (error as Error).message });
      else res.end();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
