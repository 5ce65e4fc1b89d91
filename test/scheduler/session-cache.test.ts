/**
 * Caches across the runs of one driver (driver/app/session-cache.ts): a later run of the same
 * bundle, graph and params starts with the earlier run's blob-stored nodes as stored; other
 * params, released nodes and handle sources are not carried over.
 */
import { describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../contract/names.js';
import { SessionCache } from '../../driver/app/session-cache.js';
import { unpersistNode } from '../../driver/app/unpersist.js';
import { newRunState, type RunState } from '../../driver/scheduler/run-state.js';
import { MemoryBlobs } from '../../driver/testing/memory-blobs.js';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph } from '../../engine/plan/graph.js';

const job = defineJob((ctx, p: { n: number }) => {
  const base = ctx
    .parallelize([1, 2, 3, p.n], 2)
    .map((x) => x * 2)
    .cache();
  return base.count();
});

function stateFor(params: { n: number }, runIndex: number): RunState {
  return newRunState(
    { blobs: new MemoryBlobs() },
    {
      scope: `app-t/run-${runIndex}`,
      runIndex,
      module: 'job.ts',
      graph: buildJobGraph(job, params, { defaultParallelism: 2 }),
      codeHash: 'a'.repeat(64),
      params,
      defaultParallelism: 2,
      inputs: new Map(),
      sourcePartitions: new Map(),
      broadcasts: new Map(),
    },
  );
}

function store(state: RunState, nodeId: number): string[] {
  const blobs = [
    `apps/${state.scope}/cache/${nodeId}/part-0-x.bin`,
    `apps/${state.scope}/cache/${nodeId}/part-1-x.bin`,
  ];
  state.cached.set(nodeId, blobs);
  state.cachedNodes.add(nodeId);
  return blobs;
}

describe('caches across the runs of one driver', () => {
  it('a later run with the same graph and params starts with the stored nodes', () => {
    const cache = new SessionCache();
    const first = stateFor({ n: 4 }, 0);
    const blobs = store(first, 1);
    cache.remember(first);
    const second = stateFor({ n: 4 }, 1);
    cache.restore(second);
    expect(second.cachedNodes).toEqual(new Set([1]));
    expect(second.cached.get(1)).toEqual(blobs);
  });

  it('other params are another dataset: nothing is restored', () => {
    const cache = new SessionCache();
    const first = stateFor({ n: 4 }, 0);
    store(first, 1);
    cache.remember(first);
    const other = stateFor({ n: 5 }, 1);
    cache.restore(other);
    expect(other.cachedNodes.size).toBe(0);
  });

  it('a node the run unpersisted is not carried over', () => {
    const cache = new SessionCache();
    const first = stateFor({ n: 4 }, 0);
    store(first, 1);
    first.released.add(1);
    cache.remember(first);
    const second = stateFor({ n: 4 }, 1);
    cache.restore(second);
    expect(second.cachedNodes.size).toBe(0);
    expect(cache.size).toBe(0);
  });

  it('a later run that unpersists a node an earlier run stored deletes those blobs, and no third run is handed them', async () => {
    const blobStore = new MemoryBlobs();
    const cache = new SessionCache();
    const first = stateFor({ n: 4 }, 0);
    const blobs = store(first, 1);
    for (const name of blobs) await blobStore.put(DATA_CONTAINER, name, 'partition');
    // Another node's blobs of the first run stay.
    await blobStore.put(DATA_CONTAINER, `apps/${first.scope}/cache/2/part-0-x.bin`, 'other');
    cache.remember(first);
    const second = stateFor({ n: 4 }, 1);
    cache.restore(second);
    const released = await unpersistNode(second, 1, blobStore);
    expect(released).toEqual({ released: true, blobsDeleted: 2 });
    expect(blobs.map((name) => blobStore.has(DATA_CONTAINER, name))).toEqual([false, false]);
    expect(blobStore.has(DATA_CONTAINER, `apps/${first.scope}/cache/2/part-0-x.bin`)).toBe(true);
    cache.remember(second);
    expect(cache.size).toBe(0);
    const third = stateFor({ n: 4 }, 2);
    cache.restore(third);
    expect(third.cachedNodes.size).toBe(0);
  });
});
