/**
 * The applications `stratus ui` shows, from one or more sources: the event logs of a storage
 * account (`stratus-logs`, one blob per application), one local log file, or a folder of them
 * (`.stratus/event-logs`, where embedded local runs keep theirs). Each log is followed by an
 * EventLogTail feeding one RunSummaryBuilder per application, so a running application's log
 * is re-read only from where the last poll stopped. A local file may hold several applications
 * (runs that reused one `--event-log` file): each is listed on its own.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BlobStore } from '../../../storage/blob-store.js';
import { EventLogTail, listApplications } from '../event-log.js';
import { RunSummaryBuilder } from '../run-summary.js';

/** Where the UI's event logs are: an account's `stratus-logs`, one local file, or a folder of `*.jsonl` files. */
export type UiSource = { blobs: BlobStore; description?: string } | { file: string } | { dir: string };

/** One row of the applications list. */
export interface ApplicationListing {
  appId: string;
  name: string;
  status: string;
  /** Why a failed or cancelled application ended (its app-end), when the log says. */
  error?: string;
  startedAt?: number;
  wallTimeMs: number;
  jobs: number;
  stages: number;
  tasks: number;
}

/** A log followed on demand, polled at most every `minPollMs`. */
class FollowedLog {
  private lastPoll = 0;
  private polling: Promise<void> | undefined;
  /** One builder per application, in order of first appearance in the log. */
  readonly apps = new Map<string, RunSummaryBuilder>();
  /** A blob log ends with its application's `app-end`; a file can always receive another application. */
  private ended = false;

  constructor(
    private readonly tail: EventLogTail,
    private readonly endsWithApp: boolean,
  ) {}

  /** Read what was appended since the last poll (unless polled within `minPollMs`). */
  async refresh(minPollMs: number): Promise<void> {
    if (this.polling) return this.polling;
    if (this.ended || Date.now() - this.lastPoll < minPollMs) return;
    this.polling = (async () => {
      try {
        const { events } = await this.tail.poll();
        for (const e of events) {
          let builder = this.apps.get(e.appId);
          if (!builder) {
            builder = new RunSummaryBuilder();
            this.apps.set(e.appId, builder);
          }
          builder.onEvent(e);
          if (e.type === 'app-end' && this.endsWithApp) this.ended = true;
        }
        this.lastPoll = Date.now();
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }
}

/** Follows the logs of its sources on demand. */
export class ApplicationStore {
  private readonly logs = new Map<string, FollowedLog>();
  private readonly sources: UiSource[];

  constructor(
    sources: UiSource | readonly UiSource[],
    private readonly minPollMs = 500,
  ) {
    this.sources = Array.isArray(sources) ? [...sources] : [sources as UiSource];
    if (this.sources.length === 0) throw new Error('ApplicationStore needs at least one source');
  }

  /** Printable description of the sources. */
  describe(): string {
    return this.sources
      .map((s) =>
        'file' in s ? s.file : 'dir' in s ? `${s.dir}${path.sep}` : (s.description ?? 'storage account'),
      )
      .join(' + ');
  }

  private followFile(file: string): FollowedLog {
    const key = `file:${path.resolve(file)}`;
    let log = this.logs.get(key);
    if (!log) {
      log = new FollowedLog(new EventLogTail({ file }), false);
      this.logs.set(key, log);
    }
    return log;
  }

  private followBlob(blobs: BlobStore, sourceIndex: number, appId: string): FollowedLog {
    const key = `blob:${sourceIndex}:${appId}`;
    let log = this.logs.get(key);
    if (!log) {
      log = new FollowedLog(new EventLogTail({ blobs, appId }), true);
      this.logs.set(key, log);
    }
    return log;
  }

  /** The `*.jsonl` files of a folder, most recently written first (none when it does not exist). */
  private async dirFiles(dir: string, limit: number): Promise<string[]> {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files = await Promise.all(
      names.map(async (n) => {
        const file = path.join(dir, n);
        return { file, mtime: (await stat(file)).mtimeMs };
      }),
    );
    return files
      .sort((a, b) => b.mtime - a.mtime)
      .slice(0, limit)
      .map((f) => f.file);
  }

  /** The logs of one source, refreshed: up to `limit` of them. */
  private async refreshed(source: UiSource, index: number, limit: number): Promise<FollowedLog[]> {
    let logs: FollowedLog[];
    if ('file' in source) logs = [this.followFile(source.file)];
    else if ('dir' in source) logs = (await this.dirFiles(source.dir, limit)).map((f) => this.followFile(f));
    else {
      const listed = (await listApplications(source.blobs)).slice(0, limit);
      logs = listed.map((l) => this.followBlob(source.blobs, index, l.appId));
    }
    await Promise.all(logs.map((l) => l.refresh(this.minPollMs)));
    return logs;
  }

  /**
   * The builder of one application, up to date with its log. Local sources are searched first
   * (a file named after the application, then every file), then accounts; throws
   * UnknownApplicationError when no source has it.
   */
  async application(appId: string): Promise<RunSummaryBuilder> {
    for (const source of this.sources) {
      if ('blobs' in source) continue;
      const candidates =
        'file' in source
          ? [source.file]
          : [path.join(source.dir, `${appId}.jsonl`), ...(await this.dirFiles(source.dir, 200))];
      for (const file of new Set(candidates)) {
        const log = this.followFile(file);
        try {
          await log.refresh(this.minPollMs);
        } catch (error) {
          // A folder's file named after the application need not exist: look further.
          if ('dir' in source && (error as { code?: string }).code === 'EVENT_LOG_NOT_FOUND') {
            this.logs.delete(`file:${path.resolve(file)}`);
            continue;
          }
          throw error;
        }
        const builder = log.apps.get(appId);
        if (builder) return builder;
      }
    }
    for (const [index, source] of this.sources.entries()) {
      if (!('blobs' in source)) continue;
      const log = this.followBlob(source.blobs, index, appId);
      try {
        await log.refresh(this.minPollMs);
      } catch (error) {
        this.logs.delete(`blob:${index}:${appId}`);
        if ((error as { code?: string }).code === 'EVENT_LOG_NOT_FOUND') continue;
        throw error;
      }
      const builder = log.apps.get(appId);
      if (builder) return builder;
    }
    throw new UnknownApplicationError(appId);
  }

  /**
   * Applications, newest first, at most `limit`: from every source, an application that two
   * sources hold (a run with both a blob log and a local copy) listed once, from the first.
   */
  async list(limit = 50): Promise<ApplicationListing[]> {
    const seen = new Map<string, RunSummaryBuilder>();
    for (const [index, source] of this.sources.entries()) {
      for (const log of await this.refreshed(source, index, limit)) {
        for (const [appId, builder] of log.apps) if (!seen.has(appId)) seen.set(appId, builder);
      }
    }
    return [...seen.values()]
      .map((b) => {
        const s = b.summary();
        return {
          appId: s.appId,
          name: s.name,
          status: s.status,
          ...(s.error !== undefined ? { error: s.error } : {}),
          ...(s.startedAt !== undefined ? { startedAt: s.startedAt } : {}),
          wallTimeMs: s.wallTimeMs,
          jobs: s.totals.jobs,
          stages: s.totals.stagesRun + s.totals.stagesSkipped,
          tasks: s.totals.tasks,
        };
      })
      .sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0))
      .slice(0, limit);
  }
}

/** No event log for this application id. */
export class UnknownApplicationError extends Error {
  constructor(readonly appId: string) {
    super(`no application ${appId} in this event log`);
    this.name = 'UnknownApplicationError';
  }
}
