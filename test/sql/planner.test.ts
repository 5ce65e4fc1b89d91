/**
 * The DataFrame planner: which stages, exchanges and sampling jobs a plan becomes (no DuckDB),
 * and the driver's binding (DuckDB, no data): columns and types are resolved, a missing column
 * or a bad expression fails before any task with the user's call site.
 */
import { describe, expect, it } from 'vitest';
import { bindDataFrames } from '../../duckdb/binder.js';
import type { JobContext } from '../../engine/dataset/context.js';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph, type JobGraph } from '../../engine/plan/graph.js';
import { isSamplingRequest, type JobPlan, planJob } from '../../engine/plan/stages.js';
import { avg, col, count, countDistinct, expr, sum } from '../../engine/sql/column.js';
import { exchangeSpecOf } from '../../engine/sql/planner.js';
import { relationalStageProgram } from '../../engine/sql/program.js';

const SCHEMA = 'k STRING, v INT, d DATE';

function graphOf(build: (ctx: JobContext) => unknown, parallelism = 4): JobGraph {
  return buildJobGraph(defineJob(build as never), undefined as never, { defaultParallelism: parallelism });
}

function plan(graph: JobGraph, name = 'result'): JobPlan {
  const planned = planJob(graph, name, {});
  if (isSamplingRequest(planned)) throw new Error('needs sampling');
  return planned;
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ k: `k${i % 3}`, v: i, d: '2024-01-01' }));

describe('DataFrame planning', () => {
  it('narrow operators are one fragment: one result stage, no exchange', () => {
    const g = graphOf((ctx) =>
      ctx
        .createDataFrame(rows(10), SCHEMA, 3)
        .select('k', 'v')
        .where(col('v').gt(2))
        .withColumn('w', col('v').plus(1))
        .collect(),
    );
    const p = plan(g);
    expect(p.stages).toHaveLength(1);
    expect(p.stages[0]!.numPartitions).toBe(3);
    expect(g.nodes.filter((n) => n.impl.type === 'relational')).toHaveLength(1);
  });

  it('groupBy is a partial aggregation, a hash exchange on the keys into shuffle partitions, and a final aggregation', () => {
    const g = graphOf((ctx) => {
      ctx.conf.set('spark.sql.shuffle.partitions', 5);
      return ctx.createDataFrame(rows(10), SCHEMA, 3).groupBy('k').agg(sum('v'), avg('v')).collect();
    });
    const p = plan(g);
    expect(p.stages.map((s) => [s.kind, s.numPartitions])).toEqual([
      ['shuffle-map', 3],
      ['result', 5],
    ]);
    const exchange = g.nodes.find((n) => exchangeSpecOf(n));
    expect(exchangeSpecOf(exchange!)).toEqual({ mode: 'hash', keys: [{ k: 'col', name: 'k' }] });
    const fragments = g.nodes.flatMap((n) =>
      n.impl.type === 'relational' ? [n.impl.fragment.ops.map((o) => o.op)] : [],
    );
    expect(fragments).toEqual([['partialAggregate'], ['finalAggregate']]);
  });

  it('an aggregation without keys exchanges into one partition; countDistinct exchanges rows and aggregates once', () => {
    const g = graphOf((ctx) => {
      const df = ctx.createDataFrame(rows(10), SCHEMA, 3);
      return {
        total: df.agg(count('*')).collect(),
        distinct: df.groupBy('k').agg(countDistinct('v')).collect(),
      };
    });
    expect(plan(g, 'total').stages.map((s) => s.numPartitions)).toEqual([3, 1]);
    const ops = g.nodes.flatMap((n) =>
      n.impl.type === 'relational' ? n.impl.fragment.ops.map((o) => o.op) : [],
    );
    expect(ops).toContain('aggregate');
  });

  it('one partition needs no exchange', () => {
    const g = graphOf((ctx) =>
      ctx.createDataFrame(rows(10), SCHEMA, 1).groupBy('k').count().orderBy('k').limit(2).collect(),
    );
    expect(plan(g).stages).toHaveLength(1);
  });

  it('orderBy asks for a sampling job first, then ranges its exchange by the sampled bounds', () => {
    const g = graphOf((ctx) => ctx.createDataFrame(rows(10), SCHEMA, 3).orderBy(col('v').desc()).collect());
    const first = planJob(g, 'result', {});
    expect(isSamplingRequest(first)).toBe(true);
  });

  it('orderBy then limit keeps the top n per map task and merges them in one task, with no sampling job', () => {
    const g = graphOf((ctx) => ctx.createDataFrame(rows(10), SCHEMA, 3).orderBy('v').limit(3).collect());
    const p = plan(g);
    expect(p.stages.map((s) => s.numPartitions)).toEqual([3, 1]);
    const ops = g.nodes.flatMap((n) =>
      n.impl.type === 'relational' ? [n.impl.fragment.ops.map((o) => o.op)] : [],
    );
    expect(ops).toEqual([
      ['sort', 'limit'],
      ['sort', 'limit'],
    ]);
  });

  it('two actions on one DataFrame share its exchange (the second job can skip the map stage)', () => {
    const g = graphOf((ctx) => {
      const totals = ctx.createDataFrame(rows(10), SCHEMA, 3).groupBy('k').agg(sum('v'));
      return { a: totals.collect(), b: totals.count() };
    });
    const shuffleOf = (name: string) => plan(g, name).stages[0]!.shuffle!.shuffleId;
    expect(shuffleOf('a')).toBe(shuffleOf('b'));
    expect(g.nodes.filter((n) => exchangeSpecOf(n))).toHaveLength(1);
  });
});

describe('DataFrame binding on the driver', () => {
  const noFiles = async () => undefined;

  it('resolves the schema of every fragment, with Spark types: sums of ints are long, averages double', async () => {
    const g = graphOf((ctx) =>
      ctx
        .createDataFrame(rows(10), SCHEMA, 3)
        .groupBy('k')
        .agg(sum('v').as('s'), avg('v'), count('*'))
        .collect(),
    );
    await bindDataFrames(g, noFiles);
    const p = plan(g);
    const program = relationalStageProgram(g, p, p.stages[1]!)!;
    expect(program.output).toEqual([
      { name: 'k', type: 'VARCHAR', nullable: true },
      { name: 's', type: 'BIGINT', nullable: true },
      { name: 'avg(v)', type: 'DOUBLE', nullable: true },
      { name: 'count(1)', type: 'BIGINT', nullable: true },
    ]);
    expect(relationalStageProgram(g, p, p.stages[0]!)!.sink).toEqual({
      kind: 'exchange',
      numPartitions: 4,
      partitionSql: 'CAST(hash("k") % 4 AS INTEGER)',
    });
  });

  it('a column that does not exist fails with the call site and DuckDB candidates', async () => {
    const g = graphOf((ctx) => ctx.createDataFrame(rows(10), SCHEMA, 3).select('k', 'vv').collect());
    await expect(bindDataFrames(g, noFiles)).rejects.toThrow(
      /select at planner\.test\.ts:\d+: .*"vv" not found.*Candidate bindings: "v"/s,
    );
  });

  it('a type error in an expression fails naming the call', async () => {
    const g = graphOf((ctx) =>
      ctx
        .createDataFrame(rows(10), SCHEMA, 3)
        .where(col('d').gt(expr('[1, 2]')))
        .count(),
    );
    await expect(bindDataFrames(g, noFiles)).rejects.toThrow(/where at planner\.test\.ts:\d+: /);
  });

  it('a SQL syntax error points into the SQL text', async () => {
    const g = graphOf((ctx) => ctx.createDataFrame(rows(10), SCHEMA, 3).filter('v > AND 2').count());
    await expect(bindDataFrames(g, noFiles)).rejects.toThrow(
      /filter at planner\.test\.ts:\d+: Parser Error: .*LINE 1:/s,
    );
  });

  it('an orderBy on a missing column fails on the driver too (its keys are checked on the map side)', async () => {
    const g = graphOf((ctx) => ctx.createDataFrame(rows(10), SCHEMA, 3).orderBy('nope').collect());
    await expect(bindDataFrames(g, noFiles)).rejects.toThrow(
      /orderBy at planner\.test\.ts:\d+: .*"nope" not found/s,
    );
  });

  it('a scan with no data and no schema asks for the schema', async () => {
    const g = graphOf((ctx) => ctx.read.parquet('/nowhere/*.parquet').count());
    await expect(bindDataFrames(g, noFiles)).rejects.toThrow(/give the schema/);
  });
});
