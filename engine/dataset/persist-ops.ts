/**
 * The Dataset API side of persistence (Spark's `persist`, `cache`, `unpersist`, `checkpoint`):
 * marking graph nodes while the builder runs, and the `unpersist` step. What the marks mean
 * to the planner and the task runtime is engine/plan/persistence.ts.
 *
 * Persisting is lazy, as in Spark: a mark changes nothing until an action's job computes the
 * node. `unpersist` must happen at a point of the run — after some jobs, before others — and a
 * builder only describes the run, so it is an entry of the builder's named actions: the
 * driver performs it in the actions' order, between the jobs before and after it, and runs no
 * job for it.
 */
import { StratusError } from '../../contract/errors.js';
import { nodeLabel } from '../plan/nodes.js';
import { checkStorageLevel, type StorageLevel } from '../plan/persistence.js';
import type { Action, ActionImpl } from './actions.js';
import type { GraphBuilder } from './graph-builder.js';

function openNode(builder: GraphBuilder, id: number, what: string) {
  const node = builder.nodes[id];
  if (!node) throw new Error(`internal: no node ${id}`);
  if (!builder.open) {
    throw new StratusError(
      'GRAPH_CLOSED',
      `${what} was called after the job builder returned; persist datasets inside the builder`,
    );
  }
  return node;
}

/**
 * Mark node `id` persisted at `level`. As Spark, a level once set cannot change (a dataset
 * persisted at two levels would be read from either): throws ConfigError naming the node.
 */
export function persistNode(builder: GraphBuilder, id: number, level: StorageLevel, what: string): void {
  checkStorageLevel(level, what);
  const node = openNode(builder, id, what);
  if (node.storageLevel !== undefined && node.storageLevel !== level) {
    throw new StratusError(
      'CONFIG',
      `${what}: ${nodeLabel(node)} is already persisted at '${node.storageLevel}'; a storage level cannot change (as in Spark)`,
    );
  }
  node.storageLevel = level;
}

/** Mark node `id` checkpointed: saved to blobs by the next job that computes it, its lineage truncated after. */
export function checkpointNode(builder: GraphBuilder, id: number): void {
  openNode(builder, id, 'checkpoint').checkpoint = true;
}

/** The closures of an `unpersist` entry: it runs on the driver, never in a task. */
export function unpersistImpl(): ActionImpl {
  const notATask = () => {
    throw new Error('internal: unpersist is performed by the driver, not by a job');
  };
  return { partial: notATask, merge: notATask };
}

/** True for an entry of the actions that is a driver step, not a job (`unpersist`). */
export function isUnpersist(action: Pick<Action<unknown>, 'op'>): boolean {
  return action.op === 'unpersist';
}
