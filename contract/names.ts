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

/** Prefix of every data blob one driver application writes; deleted when the application ends. */
export function appPrefix(appId: string): string {
  return `apps/${appId}/`;
}

/** Blob describing one stage of one job (params, plan, inputs, outputs), read by each of its tasks. */
export function stageBlobName(appId: string, jobId: number, stageId: number): string {
  return `apps/${appId}/jobs/${jobId}/stage-${stageId}.json`;
}

/**
 * One execution of a task attempt. The attempt number and the delivery count do not tell
 * executions apart — two deliveries of one queue message (Azure delivers at least once) or
 * two copies of it both run with dequeueCount 1 — so every execution also draws a random
 * `nonce`, and every blob it writes carries all three: no two executions share a blob name.
 */
export interface TaskExecution {
  readonly attempt: number;
  readonly dequeueCount: number;
  /** Random, drawn by the executor once per execution (8 hex digits). */
  readonly nonce: string;
}

/** `a<attempt>-d<dequeueCount>-<nonce>`: the part of a blob name that makes it one execution's. */
export function executionTag(execution: TaskExecution): string {
  return `a${execution.attempt}-d${execution.dequeueCount}-${execution.nonce}`;
}

/** `j<job>-s<stage>-p<partition>-a<attempt>-d<dequeueCount>-<nonce>`: one execution, for blob names and logs. */
export function taskExecutionId(
  task: { jobId: number; stageId: number; partition: number },
  execution: TaskExecution,
): string {
  return `j${task.jobId}-s${task.stageId}-p${task.partition}-${executionTag(execution)}`;
}

/**
 * Where one execution of a map task writes its R segments. `scope` is `<appId>/run-<n>`:
 * shuffle ids restart in every run of an application, so the run must be in the name.
 */
export function mapOutputBlobName(
  scope: string,
  shuffleId: number,
  mapPartition: number,
  execution: TaskExecution,
): string {
  return `apps/${scope}/shuffle/${shuffleId}/map-${mapPartition}-${executionTag(execution)}.bin`;
}

/**
 * The map-output table of one shuffle (`scope` as above), written once by the driver when the map
 * stage completes; `generation` counts the times the map stage ran again after its outputs were
 * lost (a fetch failure), so a later table never overwrites one that a task may still read.
 */
export function mapOutputTableBlobName(scope: string, shuffleId: number, generation = 0): string {
  return `apps/${scope}/shuffle/${shuffleId}/outputs${generation > 0 ? `-${generation}` : ''}.json`;
}

/** Where one execution of a result task writes a result too large to travel inline (`executionId`: taskExecutionId). */
export function resultBlobName(scope: string, executionId: string): string {
  return `apps/${scope}/results/${executionId}.bin`;
}

/** Where one execution persists a cached partition of a dataset node (`scope` as for map outputs). */
export function cachedPartitionBlobName(
  scope: string,
  nodeId: number,
  partition: number,
  executionId: string,
): string {
  return `${cachedNodePrefix(scope, nodeId)}part-${partition}-${executionId}.bin`;
}

/** The folder of every cached partition of a dataset node (`scope` as for map outputs), deleted by unpersist. */
export function cachedNodePrefix(scope: string, nodeId: number): string {
  return `apps/${scope}/cache/${nodeId}/`;
}

/**
 * Where one execution saves a partition of a checkpointed dataset node (`scope` as for map
 * outputs): under the application's prefix, so it is deleted with the application's blobs.
 */
export function checkpointPartitionBlobName(
  scope: string,
  nodeId: number,
  partition: number,
  executionId: string,
): string {
  return `apps/${scope}/checkpoint/${nodeId}/part-${partition}-${executionId}.bin`;
}

/** A broadcast value's blob, written once per run by the driver (`scope` as for map outputs). */
export function broadcastBlobName(scope: string, broadcastId: number): string {
  return `apps/${scope}/broadcast/${broadcastId}.bin`;
}

/** One input partition the driver cut from a local file (`scope` as for map outputs). */
export function inputPartitionBlobName(scope: string, nodeId: number, partition: number): string {
  return `apps/${scope}/input/${nodeId}/part-${String(partition).padStart(5, '0')}`;
}

/** Blob (code container) where a running fabric describes itself: executors, slots, queue. */
export function fabricInfoBlobName(queue: string): string {
  return `fabric/${queue}.json`;
}
