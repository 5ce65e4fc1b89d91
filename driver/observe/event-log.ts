/**
 * The event log (Spark's EventLoggingListener): every run event as one JSON line in an
 * append blob `stratus-logs/<appId>.jsonl`, and optionally in a local file, readable
 * offline by `stratus ui`, the run summary and tests. Appends are batched — at most one
 * append request per ~500 ms, or as soon as 64 events are waiting — because Azurite serves
 * a few hundred requests per second and the task path must keep them; an append blob takes
 * at most 50,000 appends, so a log holds millions of events.
 */
import { appendFile, type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { coerceError, StratusError } from '../../contract/errors.js';
import { LOGS_CONTAINER } from '../../contract/names.js';
import { warnRedacted } from '../../contract/redaction.js';
import type { AppendBlobWriter, BlobStore } from '../../storage/blob-store.js';
import { type RunEvent, RunEventSchema, type RunListener } from './run-events.js';

/** A run event as read back from a log (defaults applied, e.g. `speculative`). */
export type LoggedRunEvent = z.output<typeof RunEventSchema>;

/**
 * Folder of the local event-log copies of embedded local runs when STRATUS_EVENT_LOG_DIR is
 * unset, relative to the working directory; `stratus ui` reads it by default.
 */
export const DEFAULT_EVENT_LOG_DIR = path.join('.stratus', 'event-logs');

/** The folder local event-log copies go to by default (absolute): STRATUS_EVENT_LOG_DIR, else DEFAULT_EVENT_LOG_DIR. */
export function defaultEventLogDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.STRATUS_EVENT_LOG_DIR || DEFAULT_EVENT_LOG_DIR);
}

/** Blob name (in LOGS_CONTAINER) of an application's event log. */
export function eventLogBlobName(appId: string): string {
  return `${appId}.jsonl`;
}

/**
 * A line of an event log that is not a valid run event; the message names the source and line.
 * Not retryable.
 */
export class EventLogFormatError extends StratusError {
  constructor(
    readonly source: string,
    readonly line: number,
    detail: string,
  ) {
    super('EVENT_LOG_INVALID', `${source}: line ${line} is not a valid run event: ${detail}`);
    this.name = 'EventLogFormatError';
  }
}

/** Options of EventLogWriter: at least one of `blobs` and `localFile`. */
export interface EventLogWriterOptions {
  /** Append to `stratus-logs/<appId>.jsonl` in this account (the container is created if missing). */
  blobs?: BlobStore;
  /** Also append every line to this local file. */
  localFile?: string;
  /** Longest time an event waits before it is appended (ms, default 500). */
  flushIntervalMs?: number;
  /** Append at once when this many events are waiting (default 64). */
  maxBatchEvents?: number;
  /** Called when an append fails (default: a process warning); the lines are kept and retried. */
  onError?: (error: Error) => void;
}

/**
 * Writes run events as JSON lines. The application id comes from the first event (the
 * driver's `app-start`); events are buffered until then. `close()` flushes everything.
 */
export class EventLogWriter implements RunListener {
  private appId: string | undefined;
  private pending: string[] = [];
  /** The application's append blob, once the application id is known. */
  private blob: AppendBlobWriter | undefined;
  /** Lines not handed to the blob writer yet (its container could not be created). */
  private blobQueue: string[] = [];
  /** Lines handed to the blob writer whose append has not succeeded yet (it keeps their bytes). */
  private blobPendingLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private containerReady = false;
  private closed = false;
  /** Events appended so far. */
  eventsWritten = 0;
  /** Successful append calls to the blob so far (each one or more append requests). */
  blobAppends = 0;

  constructor(private readonly options: EventLogWriterOptions) {
    if (!options.blobs && !options.localFile) {
      throw new Error('EventLogWriter needs a BlobStore, a local file, or both');
    }
  }

  /** The blob this writer appends to, once the application id is known. */
  get blobName(): string | undefined {
    return this.appId === undefined ? undefined : eventLogBlobName(this.appId);
  }

  onEvent(event: RunEvent): void {
    if (this.closed) return;
    this.appId ??= event.appId;
    this.pending.push(`${JSON.stringify(event)}\n`);
    if (this.pending.length >= (this.options.maxBatchEvents ?? 64)) this.flushSoon(0);
    else this.flushSoon(this.options.flushIntervalMs ?? 500);
  }

  private flushSoon(delayMs: number): void {
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  /** Append what is waiting; appends are serialised, so lines stay in event order. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.appendPending());
    return this.writing;
  }

  private async appendPending(): Promise<void> {
    if (this.appId === undefined) return;
    const lines = this.pending;
    this.pending = [];
    if (this.options.localFile && lines.length > 0) {
      try {
        await appendFile(this.options.localFile, lines.join(''));
      } catch (error) {
        this.report(error);
      }
    }
    if (!this.options.blobs) {
      this.eventsWritten += lines.length;
      return;
    }
    this.blobQueue.push(...lines);
    if (this.blobQueue.length === 0 && this.blobPendingLines === 0) return;
    try {
      if (!this.containerReady) {
        await this.options.blobs.ensureContainers([LOGS_CONTAINER]);
        this.containerReady = true;
      }
      this.blob ??= this.options.blobs.appendBlob(LOGS_CONTAINER, eventLogBlobName(this.appId));
      const handed = this.blobQueue;
      this.blobQueue = [];
      this.blobPendingLines += handed.length;
      await this.blob.append(handed.join(''));
      this.blobAppends++;
      this.eventsWritten += this.blobPendingLines;
      this.blobPendingLines = 0;
    } catch (error) {
      // The blob writer keeps what did not land, in order, for the next append (the SDK has
      // already retried this one).
      this.report(error);
      if (!this.closed) this.flushSoon(this.options.flushIntervalMs ?? 500);
    }
  }

  private report(error: unknown): void {
    const e = coerceError(error);
    if (this.options.onError) this.options.onError(e);
    else warnRedacted(`stratus: writing the event log failed: ${e.message}`);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
    // One last try for lines a failed append kept; after that they are reported lost.
    const unsent = () => this.blobPendingLines + this.blobQueue.length;
    if (unsent() > 0) await this.flush();
    if (unsent() > 0) {
      this.report(new Error(`${unsent()} events could not be appended to ${this.blobName}`));
    }
  }
}

/** Where an event log is read from. */
export type EventLogSource = { file: string } | { blobs: BlobStore; appId: string };

function describeSource(source: EventLogSource): string {
  return 'file' in source ? source.file : `${LOGS_CONTAINER}/${eventLogBlobName(source.appId)}`;
}

/**
 * Parse JSON lines into run events; `firstLine` numbers the first line (for messages).
 * Blank lines are skipped; any other line that is not a valid event throws EventLogFormatError.
 */
export function parseEventLines(text: string, sourceName: string, firstLine = 1): LoggedRunEvent[] {
  const events: LoggedRunEvent[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new EventLogFormatError(sourceName, firstLine + i, `not JSON (${(error as Error).message})`);
    }
    const parsed = RunEventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      throw new EventLogFormatError(sourceName, firstLine + i, `${where}${issue?.message ?? 'invalid'}`);
    }
    events.push(parsed.data);
  }
  return events;
}

/**
 * Read a whole event log (a local file or an application's blob), validating every line. A
 * local file may hold several applications (a reused `--event-log` file): see
 * `groupByApplication`.
 */
export async function readEventLog(source: EventLogSource): Promise<LoggedRunEvent[]> {
  return (await new EventLogTail(source).poll()).events;
}

/**
 * Split the events of a log by application, in order of first appearance. A blob log holds one
 * application; a local file that several runs appended to holds one per run, each one whole
 * (a writer appends only its own application's lines).
 */
export function groupByApplication(events: readonly LoggedRunEvent[]): Map<string, LoggedRunEvent[]> {
  const apps = new Map<string, LoggedRunEvent[]>();
  for (const e of events) {
    const list = apps.get(e.appId);
    if (list) list.push(e);
    else apps.set(e.appId, [e]);
  }
  return apps;
}

/**
 * Follows a growing event log: each `poll()` returns the events appended since the last one
 * (only complete lines), so a live UI re-reads only the new bytes.
 */
export class EventLogTail {
  private offset = 0;
  private linesRead = 0;
  private readonly sourceName: string;

  constructor(private readonly source: EventLogSource) {
    this.sourceName = describeSource(source);
  }

  /** New events since the last poll; `grew` is false when nothing was appended. */
  async poll(): Promise<{ events: LoggedRunEvent[]; grew: boolean }> {
    const bytes =
      'file' in this.source ? await this.readFileTail(this.source.file) : await this.readBlobTail();
    // A log may be caught mid-write: take complete lines only.
    const end = bytes.lastIndexOf(10) + 1;
    if (end === 0) return { events: [], grew: false };
    const text = bytes.subarray(0, end).toString('utf8');
    const events = parseEventLines(text, this.sourceName, this.linesRead + 1);
    this.offset += end;
    this.linesRead += text.split('\n').length - 1;
    return { events, grew: true };
  }

  /** The bytes of a local file past the offset, read without re-reading what came before. */
  private async readFileTail(file: string): Promise<Buffer> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new StratusError('EVENT_LOG_NOT_FOUND', `no event log at ${this.sourceName}`);
      }
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (size <= this.offset) return Buffer.alloc(0);
      const bytes = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, this.offset);
      return bytes.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  private async readBlobTail(): Promise<Buffer> {
    const { blobs, appId } = this.source as { blobs: BlobStore; appId: string };
    const size = await blobs.size(LOGS_CONTAINER, eventLogBlobName(appId));
    if (size === undefined) {
      throw new StratusError('EVENT_LOG_NOT_FOUND', `no event log for application ${appId}`, {
        blob: this.sourceName,
      });
    }
    return size > this.offset
      ? await blobs.getRange(LOGS_CONTAINER, eventLogBlobName(appId), this.offset)
      : Buffer.alloc(0);
  }
}

/** One application's event log in the account. */
export interface EventLogInfo {
  appId: string;
  blobName: string;
  sizeBytes: number;
  /** When the log was last appended to (ms since epoch): the application's last activity. */
  lastModifiedAt: number;
}

/** Every event log in `stratus-logs`, newest application first (app ids start with a base-36 time). */
export async function listApplications(blobs: BlobStore): Promise<EventLogInfo[]> {
  let listed: { name: string; size: number; lastModified: number }[];
  try {
    listed = await blobs.list(LOGS_CONTAINER, '');
  } catch (error) {
    // No container yet: no application has logged anything.
    if ((error as { statusCode?: number }).statusCode === 404) return [];
    throw error;
  }
  return listed
    .filter((b) => b.name.endsWith('.jsonl') && !b.name.includes('/'))
    .map((b) => ({
      appId: b.name.slice(0, -'.jsonl'.length),
      blobName: b.name,
      sizeBytes: b.size,
      lastModifiedAt: b.lastModified,
    }))
    .sort((a, b) => (a.appId < b.appId ? 1 : a.appId > b.appId ? -1 : 0));
}
