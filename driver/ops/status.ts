/**
 * What `stratus status` reports: how the fabric looks now — the task queue's and the poison
 * queue's depths, the fabric's advertised size, and the executors seen running tasks recently
 * (from the task events of recent applications' event logs) — and how it prints it.
 */
import {
  CODE_CONTAINER,
  DEFAULT_TASK_QUEUE,
  fabricInfoBlobName,
  poisonQueueName,
} from '../../contract/names.js';
import { BlobStore } from '../../storage/blob-store.js';
import type { StorageConnection } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { listApplications, readEventLog } from '../observe/event-log.js';

/** An executor seen in recent event logs (running a task now counts as seen now). */
export interface RecentExecutor {
  executorId: string;
  /** Distinct slots it ran tasks on. */
  slots: number;
  lastSeenAt: number;
  /** Task attempts it ended in the window. */
  tasks: number;
  /** Applications it ran tasks for. */
  appIds: string[];
}

/** What `stratus status` reports. */
export interface FabricStatus {
  taskQueue: string;
  taskQueueDepth: number;
  poisonQueueDepth: number;
  /** What a running `stratus local` advertises, if one wrote its description. */
  fabric?: { executors: number; slotsPerExecutor: number; totalSlots: number };
  /** Applications whose logs were read: those active (appended to) within the window. */
  recentApplications: { appId: string; status: string }[];
  executors: RecentExecutor[];
  windowMs: number;
}

/** Gather the status: queue depths, fabric description and executors active within `windowMs`. */
export async function collectStatus(
  connection: StorageConnection,
  options: { taskQueue?: string; windowMs?: number; maxApplications?: number; now?: number } = {},
): Promise<FabricStatus> {
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const now = options.now ?? Date.now();
  const blobs = new BlobStore(connection);
  const [taskQueueDepth, poisonQueueDepth, fabric] = await Promise.all([
    new StorageQueue(connection, taskQueue).approximateLength(),
    new StorageQueue(connection, poisonQueueName(taskQueue)).approximateLength(),
    blobs
      .get(CODE_CONTAINER, fabricInfoBlobName(taskQueue))
      .then((b) => JSON.parse(b.toString('utf8')) as FabricStatus['fabric'])
      .catch(() => undefined),
  ]);
  // An application is recent when its log was appended to within the window — its last
  // activity, not its start: one started hours ago may still be running tasks now.
  const logs = (await listApplications(blobs))
    .filter((l) => now - l.lastModifiedAt <= windowMs)
    .sort((a, b) => b.lastModifiedAt - a.lastModifiedAt)
    .slice(0, options.maxApplications ?? 20);
  const executors = new Map<string, RecentExecutor>();
  const recentApplications: FabricStatus['recentApplications'] = [];
  for (const log of logs) {
    const events = await readEventLog({ blobs, appId: log.appId });
    const end = events.find((e) => e.type === 'app-end');
    recentApplications.push({ appId: log.appId, status: end?.type === 'app-end' ? end.status : 'running' });
    // Attempts started and not ended in a running application are running now, however long ago they started.
    const open = new Set<string>();
    if (!end) {
      for (const e of events) {
        if (e.type !== 'task-start' && e.type !== 'task-end') continue;
        const k = `${e.stageId}/${e.partition}/${e.attempt}/${e.executorId}`;
        if (e.type === 'task-start') open.add(k);
        else open.delete(k);
      }
    }
    const slots = new Map<string, Set<number>>();
    for (const e of events) {
      if (e.type !== 'task-start' && e.type !== 'task-end') continue;
      const running =
        e.type === 'task-start' && open.has(`${e.stageId}/${e.partition}/${e.attempt}/${e.executorId}`);
      if (now - e.at > windowMs && !running) continue;
      const x = executors.get(e.executorId) ?? {
        executorId: e.executorId,
        slots: 0,
        lastSeenAt: 0,
        tasks: 0,
        appIds: [],
      };
      x.lastSeenAt = Math.max(x.lastSeenAt, running ? now : e.at);
      if (e.type === 'task-end') x.tasks++;
      if (e.type === 'task-start') {
        const set = slots.get(e.executorId) ?? new Set();
        set.add(e.slot);
        slots.set(e.executorId, set);
        x.slots = Math.max(x.slots, set.size);
      }
      if (!x.appIds.includes(log.appId)) x.appIds.push(log.appId);
      executors.set(e.executorId, x);
    }
  }
  return {
    taskQueue,
    taskQueueDepth,
    poisonQueueDepth,
    ...(fabric ? { fabric } : {}),
    recentApplications,
    executors: [...executors.values()].sort((a, b) =>
      a.executorId.localeCompare(b.executorId, 'en', { numeric: true }),
    ),
    windowMs,
  };
}

/** The status as `stratus status` prints it. */
export function formatStatus(s: FabricStatus, now = Date.now()): string {
  const lines = [
    `task queue:    ${s.taskQueue}: ${s.taskQueueDepth} message${s.taskQueueDepth === 1 ? '' : 's'} waiting`,
    `poison queue:  ${s.poisonQueueDepth} message${s.poisonQueueDepth === 1 ? '' : 's'}${s.poisonQueueDepth > 0 ? ' (tasks that failed maxDequeueCount times, or once with an error retrying cannot fix)' : ''}`,
  ];
  if (s.fabric) {
    lines.push(
      `fabric:        ${s.fabric.executors} executors × ${s.fabric.slotsPerExecutor} slots = ${s.fabric.totalSlots} (as stratus local advertises it)`,
    );
  }
  const minutes = Math.round(s.windowMs / 60_000);
  lines.push(
    `executors:     ${s.executors.length} seen running tasks in the last ${minutes} min (${s.recentApplications.length} application logs read)`,
  );
  for (const e of s.executors) {
    lines.push(
      `  ${e.executorId}: ${e.slots} slot${e.slots === 1 ? '' : 's'} seen, ${e.tasks} tasks, last seen ${Math.max(0, Math.round((now - e.lastSeenAt) / 1000))} s ago`,
    );
  }
  return lines.join('\n');
}
