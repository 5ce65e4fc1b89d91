/**
 * Dataset handles: how one `driver.run` hands a distributed dataset to a later one without it
 * passing through the driver. `ds.handle()` is an action: its job checkpoints the dataset (each
 * task writes its partition to Blob Storage) and the run's result is a small DatasetHandle<T>
 * naming those blobs and the dataset's partitioner. A later run takes the handle as a param and
 * reads it with `ctx.fromHandle(p.ranks)`: a source node whose partitions are the blobs and whose
 * partitioner is the one the handle records, so a join with a dataset partitioned the same way
 * is narrow (Spark's co-partitioned join). Handles are the application's: the driver refuses a
 * handle of another application or one whose blobs are gone (driver/app/handles.ts).
 */
import { checkHandleData, type DatasetHandleData } from '../plan/handle-data.js';
import type { ActionImpl } from './actions.js';
import { actionImpls } from './actions.js';
import type { GraphBuilder } from './graph-builder.js';

/**
 * A dataset persisted by an earlier `driver.run` of this application, with records of type `T`:
 * the result of `ds.handle()`, accepted by `ctx.fromHandle`. Plain JSON: pass it in params as it
 * is. Its blobs live under the application's prefix and go with it when the driver closes.
 */
export interface DatasetHandle<T> extends DatasetHandleData {
  /** Phantom: only carries T for typing (a handle of pairs is not a handle of strings). */
  readonly recordType?: T;
}

/** The closures of `handle()`: a count of the records the job stores (the driver adds the rest). */
export function handleImpl(): ActionImpl {
  return actionImpls.count();
}

/** Add the source node reading `handle` to the graph under construction; returns its id. */
export function addHandleSource(builder: GraphBuilder, handle: unknown): number {
  checkHandleData(handle, 'fromHandle');
  const data: DatasetHandleData = {
    kind: handle.kind,
    appId: handle.appId,
    id: handle.id,
    blobs: [...handle.blobs],
    hashPartitions: handle.hashPartitions,
    records: handle.records,
  };
  return builder.addNode({
    op: 'fromHandle',
    parents: [],
    requestedPartitions: data.blobs.length,
    options: { handle: data.id, numPartitions: data.blobs.length, hashPartitions: data.hashPartitions },
    impl: { type: 'handle', handle: data },
  });
}
