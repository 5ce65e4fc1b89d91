/**
 * Names of the queues and containers that make up the driver ↔ executor contract.
 * Azure queue names: 3–63 chars, lowercase letters, digits and single hyphens.
 */

/** Default task queue the executor function is triggered by. */
export const DEFAULT_TASK_QUEUE = 'stratus-tasks';

/** Container of content-addressed job bundles (`code/<sha256>.mjs`). */
export const CODE_CONTAINER = 'stratus-code';
/** Container of input partitions, shuffle outputs, cached partitions, results and outputs. */
export const DATA_CONTAINER = 'stratus-data';
/** Container of JSONL event logs. */
export const LOGS_CONTAINER = 'stratus-logs';

/** The poison queue the Functions host moves a message to after maxDequeueCount failures. */
export function poisonQueueName(queue: string): string {
  return `${queue}-poison`;
}

/** The events queue of one driver application. */
export function eventsQueueName(appId: string): string {
  return `stratus-events-${appId}`;
}

const APP_ID = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,47}$/;

/** True when `appId` can be embedded in queue and blob names. */
export function isValidAppId(appId: string): boolean {
  return APP_ID.test(appId);
}

/** Blob name of a job bundle in CODE_CONTAINER. */
export function bundleBlobName(codeHash: string): string {
  return `code/${codeHash}.mjs`;
}
