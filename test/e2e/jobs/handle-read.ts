/**
 * Reads the handles of handle-make.ts: `plain` collected as it is, and `sums` joined with a small
 * dataset into the handle's partition count — the handle's side is read in place (no shuffle).
 */
import { type DatasetHandle, defineJob } from 'stratus';

export interface HandleReadParams {
  plain: DatasetHandle<{ key: string; value: number; big: boolean }>;
  sums: DatasetHandle<[string, number]>;
  labels: [string, string][];
  partitions: number;
}

export default defineJob((ctx, p: HandleReadParams) => ({
  plain: ctx.fromHandle(p.plain).collect(),
  joined: ctx.fromHandle(p.sums).join(ctx.parallelize(p.labels, 2), p.partitions).collect(),
}));
