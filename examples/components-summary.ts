/** The components of a labelling (components.ts): `[label, vertices]` per component, largest first. */
import { type DatasetHandle, defineJob } from 'stratus';

export default defineJob((ctx, p: { labels: DatasetHandle<[number, number]>; n?: number }) =>
  ctx
    .fromHandle(p.labels)
    .map(([, label]) => [label, 1] as [number, number])
    .reduceByKey((a, b) => a + b)
    .takeOrdered(p.n ?? 10, ([label, size]) => [-size, label]),
);
