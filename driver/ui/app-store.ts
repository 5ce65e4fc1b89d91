/**
 * The applications `stratus ui` shows: event logs in `stratus-logs` (or one local log file),
 * each followed by an EventLogTail feeding a RunSummaryBuilder, so a running application's
 * log is re-read only from where the last poll stopped.
 */
import type { BlobStore } from '../../storage/blob-store.js';
import { type EventLogSource, EventLogTail, listApplications } from '../event-log.js';
import { RunSummaryBuilder } from '../run-summary.js';

/** Where the UI's event logs are. */
export type UiSource = { blobs: BlobStore; description?: string } | { file: string };

/** One row of the applications list. */
export interface ApplicationListing {
  appId: string;
  name: string;
  status: string;
  startedAt?: number;
  wallTimeMs: number;
  jobs: number;
  stages: number;
  tasks: number;
}

interface Followed {
  tail: EventLogTail;
  builder: RunSummaryBuilder;
  lastPoll: number;
  ended: boolean;
  polling?: Promise<void> | undefined;
}

/** Follows event logs on demand; a log is polled at most every `minPollMs`. */
export class ApplicationStore {
  private readonly followed = new Map<string, Followed>();
  /** The local file's application id, once read. */
  private fileAppId: string | undefined;

  constructor(
    private readonly source: UiSource,
    private readonly minPollMs = 500,
  ) {}

  /** Printable description of the source. */
  describe(): string {
    return 'file' in this.source ? this.source.file : (this.source.description ?? 'storage account');
  }

  private async follow(key: string, logSource: EventLogSource): Promise<RunSummaryBuilder> {
    let f = this.followed.get(key);
    if (!f) {
      f = { tail: new EventLogTail(logSource), builder: new RunSummaryBuilder(), lastPoll: 0, ended: false };
      this.followed.set(key, f);
    }
    const entry = f;
    if (!entry.ended && Date.now() - entry.lastPoll >= this.minPollMs) {
      entry.polling ??= (async () => {
        try {
          const { events } = await entry.tail.poll();
          for (const e of events) {
            entry.builder.onEvent(e);
            if (e.type === 'app-end') entry.ended = true;
          }
          entry.lastPoll = Date.now();
        } finally {
          entry.polling = undefined;
        }
      })();
      await entry.polling;
    } else if (entry.polling) {
      await entry.polling;
    }
    return entry.builder;
  }

  /** The builder of one application, up to date with its log; throws EVENT_LOG_NOT_FOUND. */
  async application(appId: string): Promise<RunSummaryBuilder> {
    if ('file' in this.source) {
      const builder = await this.follow('file', { file: this.source.file });
      this.fileAppId ??= builder.summary().appId;
      if (appId !== this.fileAppId) throw new UnknownApplicationError(appId);
      return builder;
    }
    return this.follow(appId, { blobs: this.source.blobs, appId });
  }

  /** Applications, newest first (at most `limit` from the account). */
  async list(limit = 50): Promise<ApplicationListing[]> {
    let builders: RunSummaryBuilder[];
    if ('file' in this.source) {
      builders = [await this.follow('file', { file: this.source.file })];
    } else {
      const blobs = this.source.blobs;
      const logs = (await listApplications(blobs)).slice(0, limit);
      builders = await Promise.all(logs.map((l) => this.follow(l.appId, { blobs, appId: l.appId })));
    }
    return builders.map((b) => {
      const s = b.summary();
      return {
        appId: s.appId,
        name: s.name,
        status: s.status,
        ...(s.startedAt !== undefined ? { startedAt: s.startedAt } : {}),
        wallTimeMs: s.wallTimeMs,
        jobs: s.totals.jobs,
        stages: s.totals.stagesRun + s.totals.stagesSkipped,
        tasks: s.totals.tasks,
      };
    });
  }
}

/** No event log for this application id. */
export class UnknownApplicationError extends Error {
  constructor(readonly appId: string) {
    super(`no application ${appId} in this event log`);
    this.name = 'UnknownApplicationError';
  }
}
