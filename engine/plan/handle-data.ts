/**
 * What a dataset handle carries (engine/dataset/handles.ts has the typed DatasetHandle<T> a
 * user sees): plain JSON, so it travels in a run's result, in the next run's params and in
 * stage descriptors. It names the application that made it, the blob of each partition and the
 * partitioner that placed the records — the blobs are the handle's data, the partitioner is what
 * lets a later job join it without a shuffle (Spark's narrow dependency on a partitioned RDD).
 */
import { StratusError } from '../../contract/errors.js';

/** Marks a DatasetHandle among other params (checked by `ctx.fromHandle`). */
export const DATASET_HANDLE_KIND: DatasetHandleData['kind'] = 'stratus-dataset-handle';

/** The JSON content of a dataset handle. */
export interface DatasetHandleData {
  /** Always DATASET_HANDLE_KIND. */
  readonly kind: 'stratus-dataset-handle';
  /** The application (`app-…`) whose blobs hold the partitions: a handle is valid there only. */
  readonly appId: string;
  /** `<appId>/run-<n>/node-<id>`: the run and node that made it, for errors and explain. */
  readonly id: string;
  /** One blob per partition (data container), in partition order, in the record codec. */
  readonly blobs: readonly string[];
  /** The hash partitioner's partition count when records are placed by key hash, else null. */
  readonly hashPartitions: number | null;
  /** Records across all partitions. */
  readonly records: number;
}

/**
 * Throws HANDLE_INVALID unless `value` has a handle's shape; `what` names the call (the value
 * came from params, which a user may build by hand or from another program's output).
 */
export function checkHandleData(value: unknown, what: string): asserts value is DatasetHandleData {
  const h = value as Partial<DatasetHandleData> | null;
  const fail = (why: string): never => {
    throw new StratusError(
      'HANDLE_INVALID',
      `${what}: expected a dataset handle (the result of ds.handle() in an earlier driver.run), ${why}`,
    );
  };
  if (typeof h !== 'object' || h === null || h.kind !== DATASET_HANDLE_KIND)
    return fail(`got ${JSON.stringify(value)?.slice(0, 80)}`);
  if (typeof h.appId !== 'string' || typeof h.id !== 'string') return fail('its appId or id is missing');
  if (!Array.isArray(h.blobs) || h.blobs.length === 0 || !h.blobs.every((b) => typeof b === 'string'))
    return fail('its partition blobs are missing');
  if (h.hashPartitions !== null && h.hashPartitions !== h.blobs.length)
    return fail(`its partitioner has ${h.hashPartitions} partitions but it lists ${h.blobs.length} blobs`);
  if (typeof h.records !== 'number') return fail('its record count is missing');
}
