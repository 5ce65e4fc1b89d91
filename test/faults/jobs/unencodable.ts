/** A map whose records the codec cannot encode (a class instance inside a Map). */
import { defineJob } from 'stratus';

class Handle {
  open = true;
}

export default defineJob((ctx) =>
  ctx
    .parallelize([1, 2, 3], 1)
    .map((i) => [i, new Map([['h', new Handle()]])] as [number, unknown])
    .groupByKey(2)
    .count(),
);
