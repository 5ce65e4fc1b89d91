import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { avg, col, count, sum } from '../../engine/sql/column.js';
import { runDataFrameJob } from './local-dataframe-runner.js';

describe('smoke', () => {
  it('groups and sorts', async () => {
    const job = defineJob((ctx) => {
      const df = ctx.createDataFrame(
        [
          { k: 'a', v: 1 },
          { k: 'b', v: 2 },
          { k: 'a', v: 3 },
          { k: null, v: 4 },
        ],
        'k STRING, v INT',
        3,
      );
      const g = df.groupBy('k').agg(sum('v').as('s'), count('*'), avg('v')).orderBy(col('s').desc());
      return {
        rows: g.collect(),
        n: df.where(col('v').gt(1)).count(),
        show: g.show(),
        schema: g.printSchema(),
        explain: g.explain(),
      };
    });
    const r = (await runDataFrameJob(job, undefined, { defaultParallelism: 3 })) as Record<string, unknown>;
    console.log(r.show, r.schema, r.explain);
    expect(r.rows).toEqual([
      { k: 'a', s: 4, 'count(1)': 2, 'avg(v)': 2 },
      { k: null, s: 4, 'count(1)': 1, 'avg(v)': 4 },
      { k: 'b', s: 2, 'count(1)': 1, 'avg(v)': 2 },
    ]);
    expect(r.n).toBe(3);
  });
});
