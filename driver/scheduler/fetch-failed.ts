/**
 * Fetch failures (Spark's FetchFailed task end reason): a reduce task found a map output of a
 * shuffle missing. Retrying the reduce task would meet the same missing blob, so its task set
 * stops at once with this error, and the DAG scheduler resubmits the map stage that writes the
 * shuffle, then the stage that read it — at most MAX_STAGE_ATTEMPTS times in a row
 * (spark.stage.maxConsecutiveAttempts).
 */
import { JobFailedError } from '../../contract/errors.js';
import type { TaskFailedEvent } from '../../contract/protocol.js';

/** The error code an executor reports for a map output it could not read. */
export const SHUFFLE_OUTPUT_MISSING = 'SHUFFLE_OUTPUT_MISSING';

/** How many times a stage runs before its fetch failures fail the job (Spark's default, 4). */
export const MAX_STAGE_ATTEMPTS = 4;

/** A stage stopped on a fetch failure; `shuffleId` is unknown when an older executor did not say. */
export class FetchFailedError extends JobFailedError {
  readonly shuffleId: number | undefined;

  constructor(jobId: number, stageId: number, event: TaskFailedEvent) {
    super(
      `stage ${stageId}, partition ${event.partition} could not read ` +
        `${event.error.shuffleId !== undefined ? `a map output of shuffle ${event.error.shuffleId}` : 'a map output'} ` +
        `(executor ${event.executorId}, attempt ${event.attempt}): ${event.error.message}`,
      { jobId, stageId, partition: event.partition, attempt: event.attempt },
      { retryable: false },
    );
    this.name = 'FetchFailedError';
    this.shuffleId = event.error.shuffleId;
  }
}

/** True when a task failure is a fetch failure (the map output it reads is gone). */
export function isFetchFailure(event: TaskFailedEvent): boolean {
  return event.error.code === SHUFFLE_OUTPUT_MISSING;
}
