/**
 * Caches across the runs of one driver session (Spark's cached RDDs outlive one action: they
 * live in the SparkContext). A stratus run rebuilds its graph from the job module, so a node of
 * a later run is "the same dataset" as one of an earlier run when both runs built the same graph
 * (same bundle, same fingerprint) from the same params: node ids, lineage and the values closures
 * capture are then equal. The blobs of such a run's nodes persisted at 'blob' (or checkpointed)
 * are then handed to the later run as stored partitions, so its jobs read them instead of
 * computing them again. Partitions kept on executors ('memory', 'disk') are per run and are not
 * carried over (docs/decisions.md).
 */
import { toTaggedJson } from '../../engine/records/tagged-json.js';
import type { RunState } from '../scheduler/run-state.js';

/** The stored partitions of one (bundle, graph, params): node id → partition blobs. */
type StoredNodes = Map<number, string[]>;

/** What the runs of one JobRunner have stored, by the identity of the graph that stored it. */
export class SessionCache {
  private readonly byGraph = new Map<string, StoredNodes>();

  /** The identity of a run's graph: bundle hash, graph fingerprint and params (tagged JSON). */
  static keyOf(state: Pick<RunState, 'codeHash' | 'graph' | 'params'>): string {
    return JSON.stringify([state.codeHash, state.graph.fingerprint, toTaggedJson(state.params)]);
  }

  /** Enter in `state` the nodes an earlier run of the same graph and params stored. */
  restore(state: RunState): void {
    const stored = this.byGraph.get(SessionCache.keyOf(state));
    if (!stored) return;
    for (const [nodeId, blobs] of stored) {
      state.cached.set(nodeId, [...blobs]);
      state.cachedNodes.add(nodeId);
    }
  }

  /** Keep what `state`'s run stored (and did not unpersist) for later runs of the same graph and params. */
  remember(state: RunState): void {
    const stored: StoredNodes = new Map();
    for (const nodeId of state.cachedNodes) {
      const node = state.graph.node(nodeId);
      // A handle's blobs are given by params, and are the same in every run that is given them.
      if (node.impl.type === 'handle' || state.released.has(nodeId)) continue;
      const parts = state.cached.get(nodeId);
      if (parts && !parts.includes(undefined)) stored.set(nodeId, parts as string[]);
    }
    // A run that stored nothing (it unpersisted what an earlier run had stored) replaces the entry
    // too: a later run must not be handed blobs this one deleted.
    const key = SessionCache.keyOf(state);
    if (stored.size > 0) this.byGraph.set(key, stored);
    else this.byGraph.delete(key);
  }

  /** The number of graphs with stored partitions (for tests and the run summary). */
  get size(): number {
    return this.byGraph.size;
  }
}
