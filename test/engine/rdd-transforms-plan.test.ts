/**
 * How the issue-13 transformations plan: which of them shuffle (stages and shuffle reads), the
 * partition counts of their stages, a file source under cartesian, and that `stratus explain`
 * (describePlan) names each one by the line of the job module that called it.
 */
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { describePlan } from '../../engine/plan/explain.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { isSamplingRequest, type JobPlan, planJob } from '../../engine/plan/stages.js';

/** The line this is called from, as the engine's call sites name it. */
function lineHere(): number {
  const frame = new Error().stack!.split('\n')[2]!;
  return Number(/:(\d+):\d+\)?$/.exec(frame)![1]);
}

const lines: Record<string, number> = {};

const job = defineJob((ctx, p: { input: string }) => {
  const nums = ctx.parallelize([1, 2, 3, 4, 5], 2);
  const more = ctx.parallelize([4, 5, 6], 3);
  const text = ctx.textFile(p.input);
  const [grouped, groupByLine] = [nums.groupBy((x) => x % 2, 3), lineHere()] as const;
  const [common, intersectionLine] = [nums.intersection(more, 4), lineHere()] as const;
  const [rest, subtractLine] = [nums.subtract(more), lineHere()] as const;
  const [pairs, cartesianLine] = [nums.cartesian(text), lineHere()] as const;
  const [globbed, glomLine] = [nums.glom(), lineHere()] as const;
  const sizes = (i: number, rs: number[]) => [i, rs.length];
  const [indexed, withIndexLine] = [nums.mapPartitionsWithIndex(sizes), lineHere()] as const;
  const keyed = nums.map((x) => [x % 2 === 0 ? 'even' : 'odd', x] as [string, number]);
  const half = { even: 0.5, odd: 1 };
  const [sampled, sampleByKeyLine] = [keyed.sampleByKey(false, half, 3), lineHere()] as const;
  const [splits, randomSplitLine] = [nums.randomSplit([1, 2], 9), lineHere()] as const;
  Object.assign(lines, {
    groupBy: groupByLine,
    intersection: intersectionLine,
    subtract: subtractLine,
    cartesian: cartesianLine,
    glom: glomLine,
    mapPartitionsWithIndex: withIndexLine,
    sampleByKey: sampleByKeyLine,
    randomSplit: randomSplitLine,
  });
  return {
    groupBy: grouped.collect(),
    intersection: common.collect(),
    subtract: rest.collect(),
    cartesian: pairs.collect(),
    glom: globbed.collect(),
    mapPartitionsWithIndex: indexed.collect(),
    sampleByKey: sampled.collect(),
    randomSplit: splits[1]!.collect(),
  };
});

const graph = buildJobGraph(job, { input: 'in/*.txt' }, { defaultParallelism: 5 });
const sourcePartitions = new Map(graph.sources().map((s) => [s.nodeId, 2]));

function plan(action: string): JobPlan {
  const planned = planJob(graph, action, { sourcePartitions });
  if (isSamplingRequest(planned)) throw new Error('unexpected sampling request');
  return planned;
}

const shape = (p: JobPlan) => p.stages.map((s) => [s.kind, s.numPartitions, s.shuffleReads.length]);

describe('planning the issue-13 transformations', () => {
  it('cartesian is narrow: one stage of n1 × n2 tasks, no shuffle, a file source as one side', () => {
    expect(shape(plan('cartesian'))).toEqual([['result', 2 * 2, 0]]);
  });

  it('groupBy shuffles once into numPartitions', () => {
    expect(shape(plan('groupBy'))).toEqual([
      ['shuffle-map', 2, 0],
      ['result', 3, 1],
    ]);
  });

  it('intersection and subtract shuffle both sides (a cogroup); subtract defaults to the default parallelism', () => {
    expect(shape(plan('intersection'))).toEqual([
      ['shuffle-map', 2, 0],
      ['shuffle-map', 3, 0],
      ['result', 4, 2],
    ]);
    expect(shape(plan('subtract'))).toEqual([
      ['shuffle-map', 2, 0],
      ['shuffle-map', 3, 0],
      ['result', 5, 2],
    ]);
  });

  it('glom, mapPartitionsWithIndex, sampleByKey and randomSplit are narrow and keep the partition count', () => {
    for (const action of ['glom', 'mapPartitionsWithIndex', 'sampleByKey', 'randomSplit']) {
      expect(shape(plan(action))).toEqual([['result', 2, 0]]);
    }
  });

  it('explain names every new operation by its call site in the job module', () => {
    for (const [op, line] of Object.entries(lines)) {
      const text = describePlan(plan(op));
      expect(text, op).toContain(`${op} at rdd-transforms-plan.test.ts:${line}`);
    }
  });
});
