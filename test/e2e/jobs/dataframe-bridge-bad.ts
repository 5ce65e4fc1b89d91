/** toDF over records one of which does not match the schema: its task must fail, naming it. */
import { defineJob } from 'stratus';

export default defineJob((ctx) =>
  ctx
    .parallelize(
      [
        { k: 'a', v: 1 },
        { k: 'b', v: 2 },
        { k: 'c', v: 'three' },
      ],
      3,
    )
    .toDF('k STRING, v INT')
    .count(),
);
