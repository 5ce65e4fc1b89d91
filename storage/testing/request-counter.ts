/**
 * A counting pass-through proxy in front of Azurite's blob and queue ports: every storage
 * request of the driver and of every executor process goes through it, so benchmarks and
 * tests count real requests by kind (no mock: the requests reach the real Azurite unchanged).
 * The benches use it to check the request model of docs/scale.md against what the engine
 * does; the executor tests, to see when the queue listener polls, measured at storage.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { azuriteConnectionString } from '../connection.js';

/** Request counts by operation kind (`blob:range-read`, `queue:receive`…) and bytes moved. */
export interface RequestCounts {
  byKind: Record<string, number>;
  total: number;
  /** Request bodies sent to storage (bytes). */
  bytesUp: number;
  /** Response bodies received from storage (bytes). */
  bytesDown: number;
}

function classify(service: 'blob' | 'queue', req: http.IncomingMessage): string {
  const url = new URL(req.url ?? '/', 'http://x');
  const method = req.method ?? 'GET';
  const comp = url.searchParams.get('comp');
  const restype = url.searchParams.get('restype');
  if (service === 'queue') {
    const isMessages = /\/messages(\/|$)/.test(url.pathname);
    if (!isMessages) return `queue:${method.toLowerCase()}-${comp ?? 'queue'}`;
    if (method === 'POST') return 'queue:send';
    if (method === 'GET') return url.searchParams.get('peekonly') === 'true' ? 'queue:peek' : 'queue:receive';
    if (method === 'DELETE') return url.searchParams.has('popreceipt') ? 'queue:delete' : 'queue:clear';
    if (method === 'PUT') return 'queue:update';
    return `queue:${method.toLowerCase()}`;
  }
  if (restype === 'container') return `blob:container-${comp ?? method.toLowerCase()}`;
  const object = blobKind(url.pathname);
  if (method === 'PUT') return comp ? `blob:put-${comp}:${object}` : `blob:put:${object}`;
  if (method === 'GET') return `blob:read:${object}`;
  if (method === 'HEAD') return `blob:properties:${object}`;
  if (method === 'DELETE') return `blob:delete:${object}`;
  return `blob:${method.toLowerCase()}:${object}`;
}

/** What a blob is, from its name (contract/names.ts): map outputs, tables, inputs, descriptors… */
function blobKind(pathname: string): string {
  if (/\/shuffle\/\d+\/map-[^/]+\.bin$/.test(pathname)) return 'map-output';
  if (/\/shuffle\/\d+\/outputs(-\d+)?\.json$/.test(pathname)) return 'map-output-table';
  if (/\/input\/\d+\/part-/.test(pathname)) return 'input';
  if (/\/jobs\/\d+\/stage-\d+\.json$/.test(pathname)) return 'stage-descriptor';
  if (/\/stratus-code\//.test(pathname)) return 'code';
  if (/\/stratus-logs\//.test(pathname)) return 'event-log';
  if (/lease/.test(pathname)) return 'app-lease';
  if (/\/output-attempts\/|\/part-\d+$|_SUCCESS$/.test(pathname)) return 'output';
  return 'other';
}

/** One request as the proxy saw it arrive. */
export interface CountedRequest {
  /** As in RequestCounts.byKind: `queue:receive`, `blob:read:input`… */
  kind: string;
  /** The URL path, `/<account>/<queue>/messages` for a receive. */
  path: string;
  /** Arrival time (ms since epoch, this machine's clock). */
  at: number;
}

/** A running counting proxy; `connectionString` points clients at it. */
export class RequestCounter {
  private counts: RequestCounts = { byKind: {}, total: 0, bytesUp: 0, bytesDown: 0 };
  private readonly listeners = new Set<(request: CountedRequest) => void>();
  private constructor(
    private readonly servers: http.Server[],
    readonly connectionString: string,
    private readonly agent: http.Agent,
  ) {}

  /** Proxy the Azurite a connection string names (its BlobEndpoint and QueueEndpoint ports on 127.0.0.1). */
  static startFor(connectionString: string): Promise<RequestCounter> {
    const port = (service: 'Blob' | 'Queue') => {
      const match = new RegExp(`${service}Endpoint=http://[^:;/]+:(\\d+)`).exec(connectionString);
      if (!match) throw new Error(`no ${service}Endpoint with a port in the connection string`);
      return Number(match[1]);
    };
    return RequestCounter.start(port('Blob'), port('Queue'));
  }

  /** Proxy `blobPort` and `queuePort` of Azurite on 127.0.0.1 through fresh loopback ports. */
  static async start(blobPort: number, queuePort: number): Promise<RequestCounter> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    let counter: RequestCounter | undefined;
    const serve = (service: 'blob' | 'queue', targetPort: number) =>
      new Promise<http.Server>((resolve) => {
        const server = http.createServer((req, res) => {
          const kind = classify(service, req);
          counter?.count(kind, req.url ?? '/');
          const lose = counter?.takeLoss(kind) ?? false;
          const upstream = http.request(
            {
              host: '127.0.0.1',
              port: targetPort,
              method: req.method,
              path: req.url,
              headers: req.headers,
              agent,
            },
            (reply) => {
              if (lose) {
                // Azurite did the work; the client never hears of it (a reply lost on the network).
                reply.resume();
                reply.on('end', () => res.socket?.destroy());
                return;
              }
              res.writeHead(reply.statusCode ?? 502, reply.headers);
              reply.on('data', (chunk: Buffer) => {
                if (counter) counter.counts.bytesDown += chunk.length;
              });
              reply.pipe(res);
            },
          );
          upstream.on('error', (error) => {
            res.destroy(error);
          });
          req.on('data', (chunk: Buffer) => {
            if (counter) counter.counts.bytesUp += chunk.length;
          });
          req.pipe(upstream);
        });
        server.keepAliveTimeout = 60_000;
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
    const blob = await serve('blob', blobPort);
    const queue = await serve('queue', queuePort);
    const port = (s: http.Server) => (s.address() as AddressInfo).port;
    counter = new RequestCounter([blob, queue], azuriteConnectionString(port(blob), port(queue)), agent);
    return counter;
  }

  private readonly losses = new Map<string, number>();

  /**
   * Forward the next `times` requests of `kind` (e.g. `blob:put-appendblock:event-log`) to
   * Azurite, then drop the connection instead of relaying the response, so the client retries
   * a request that in fact succeeded.
   */
  loseResponses(kind: string, times = 1): void {
    this.losses.set(kind, (this.losses.get(kind) ?? 0) + times);
  }

  private takeLoss(kind: string): boolean {
    const left = this.losses.get(kind) ?? 0;
    if (left === 0) return false;
    this.losses.set(kind, left - 1);
    return true;
  }

  private count(kind: string, url: string): void {
    this.counts.byKind[kind] = (this.counts.byKind[kind] ?? 0) + 1;
    this.counts.total++;
    if (this.listeners.size === 0) return;
    const request = { kind, path: new URL(url, 'http://x').pathname, at: Date.now() };
    for (const listener of this.listeners) listener(request);
  }

  /** Call `listener` for every request from now on, as it arrives; returns the unsubscribe function. */
  onRequest(listener: (request: CountedRequest) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Counts since the last reset. */
  snapshot(): RequestCounts {
    return { ...this.counts, byKind: { ...this.counts.byKind } };
  }

  /** Start counting from zero. */
  reset(): void {
    this.counts = { byKind: {}, total: 0, bytesUp: 0, bytesDown: 0 };
  }

  /** Stop listening and drop idle connections. */
  async stop(): Promise<void> {
    for (const s of this.servers) s.closeAllConnections();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.agent.destroy();
  }
}
