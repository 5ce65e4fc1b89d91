/**
 * A run listener for tests that keeps every run event it is given, in order, so a test can
 * assert what the event log, the progress line and the UI would have been told.
 */
import type { RunEvent, RunListener } from '../observe/run-events.js';

/** A RunListener that records events; `of` narrows them by their `type`. */
export class RecordingListener implements RunListener {
  /** Every event received, oldest first. */
  readonly events: RunEvent[] = [];

  /** Record one event. */
  onEvent(event: RunEvent): void {
    this.events.push(event);
  }

  /** The recorded events of one type, oldest first. */
  of<T extends RunEvent['type']>(type: T): Extract<RunEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  }

  /** Forget the events recorded so far. */
  clear(): void {
    this.events.length = 0;
  }
}
