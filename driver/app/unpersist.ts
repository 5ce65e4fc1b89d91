/**
 * The driver's side of `ds.unpersist()` (Spark's RDD.unpersist, which asks every block manager
 * to drop the RDD's blocks): an entry of a job module's actions, performed between the jobs
 * before and after it, running no job. From then on the run plans the node as unpersisted
 * (planJob's `released`): later jobs recompute it and do not persist it again. Blob copies are
 * deleted at once (every attempt's, under the node's cache folder); executors cannot be called,
 * so each drops its memory and disk copies when it next runs a task of the run (the stage plan
 * lists the released nodes). A checkpoint is not released: it is the dataset's lineage now.
 */
import { cachedNodePrefix, DATA_CONTAINER } from '../../contract/names.js';
import type { RunState } from '../scheduler/run-state.js';

/** What releasing a node did. */
export interface Unpersisted {
  /** True when stored partitions were released (blobs deleted, or executors told to drop copies). */
  released: boolean;
  /** Cache blobs deleted. */
  blobsDeleted: number;
}

/** Release node `nodeId`'s persisted partitions in the run `state`; `blobs` deletes its blob copies. */
export async function unpersistNode(
  state: RunState,
  nodeId: number,
  blobs: { deletePrefix(container: string, prefix: string): Promise<number> },
): Promise<Unpersisted> {
  const node = state.graph.node(nodeId);
  if (node.storageLevel === undefined || state.released.has(nodeId))
    return { released: false, blobsDeleted: 0 };
  state.released.add(nodeId);
  if (node.storageLevel !== 'blob') return { released: state.locallyPersisted.has(nodeId), blobsDeleted: 0 };
  // A checkpointed node's blobs are its checkpoint: they stay (and the plan keeps reading them).
  if (node.checkpoint) return { released: false, blobsDeleted: 0 };
  const storedBlobs = state.cached.get(nodeId) ?? [];
  state.cached.delete(nodeId);
  state.cachedNodes.delete(nodeId);
  // This run's cache folder of the node, and the folders of the blobs an earlier run of the same
  // graph stored and this run was handed (session-cache.ts): they are under that run's scope.
  const folders = new Set([cachedNodePrefix(state.scope, nodeId)]);
  const marker = `/cache/${nodeId}/`;
  for (const blob of storedBlobs) {
    const at = blob?.indexOf(marker) ?? -1;
    if (blob && at >= 0) folders.add(blob.slice(0, at + marker.length));
  }
  let blobsDeleted = 0;
  for (const folder of folders) blobsDeleted += await blobs.deletePrefix(DATA_CONTAINER, folder);
  return { released: storedBlobs.length > 0 || blobsDeleted > 0, blobsDeleted };
}
