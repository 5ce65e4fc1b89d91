/**
 * The driver's side of dataset handles (engine/dataset/handles.ts). Before a run's first job,
 * every `ctx.fromHandle` node is checked — the handle must be this application's, and every
 * partition blob must still exist — and entered in the run's stored nodes, so planning reads its
 * blobs as it reads a checkpoint. After a `handle()` job, the checkpoint that job wrote becomes
 * the DatasetHandle the run returns.
 */
import { StratusError } from '../../contract/errors.js';
import { DATA_CONTAINER } from '../../contract/names.js';
import { knownHashPartitioner } from '../../engine/dataset/known-partitioning.js';
import { DATASET_HANDLE_KIND, type DatasetHandleData } from '../../engine/plan/handle-data.js';
import { nodeLabel } from '../../engine/plan/nodes.js';
import type { RunState } from '../scheduler/run-state.js';

/**
 * Check the handles the run's graph reads and enter their blobs as stored partitions. Throws
 * HANDLE_FOREIGN_APP for a handle made by another application (its blobs are that application's
 * and go when it ends) and HANDLE_MISSING naming the first partition blob that is gone.
 */
export async function attachHandles(
  state: RunState,
  appId: string,
  blobs: { exists(container: string, name: string): Promise<boolean> },
): Promise<void> {
  for (const node of state.graph.nodes) {
    if (node.impl.type !== 'handle') continue;
    const handle = node.impl.handle;
    if (handle.appId !== appId) {
      throw new StratusError(
        'HANDLE_FOREIGN_APP',
        `${state.module}: ${nodeLabel(node)} reads handle ${handle.id}, made by application ${handle.appId}; a handle is valid only in the application that made it (this is ${appId}) — save the dataset (saveAsJsonLines) to share it`,
        { appId },
      );
    }
    const present = await Promise.all(handle.blobs.map((blob) => blobs.exists(DATA_CONTAINER, blob)));
    const gone = present.indexOf(false);
    if (gone >= 0) {
      throw new StratusError(
        'HANDLE_MISSING',
        `${state.module}: ${nodeLabel(node)} reads handle ${handle.id}, but partition ${gone} of it (blob ${handle.blobs[gone]}) is gone: its application's blobs were deleted (stratus clean?)`,
        { appId, partition: gone, blob: handle.blobs[gone]! },
      );
    }
    state.cached.set(node.id, [...handle.blobs]);
    state.cachedNodes.add(node.id);
  }
}

/** The handle of node `nodeId`, which the run's last job stored (`records` is that job's count). */
export function handleOf(state: RunState, appId: string, nodeId: number, records: number): DatasetHandleData {
  const parts = state.cached.get(nodeId);
  if (!parts || parts.includes(undefined) || !state.cachedNodes.has(nodeId))
    throw new Error(`internal: handle() job left node ${nodeId} without every partition stored`);
  return {
    kind: DATASET_HANDLE_KIND,
    appId,
    id: `${state.scope}/node-${nodeId}`,
    blobs: parts as string[],
    hashPartitions: knownHashPartitioner(state.graph.nodes, nodeId)?.numPartitions ?? null,
    records,
  };
}
