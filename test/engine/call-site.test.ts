/**
 * Call sites name operators in plans, progress and the UI (`map at sales.ts:8`, as Spark's
 * `map at Sales.scala:8`), read from the stack when a dataset operation adds its node. They are
 * labels: two builds of the same shape from different lines have the same fingerprint.
 */
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { callSiteFromStack, operatorLabel } from '../../engine/plan/call-site.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { planJob } from '../../engine/plan/stages.js';

const ENGINE = '/srv/app/node_modules/stratus/dist/engine/';

describe('call sites of dataset operations', () => {
  it("the first frame outside the engine and Node's internals is the call site, as file:line", () => {
    const stack = [
      'Error',
      `    at currentCallSite (file://${ENGINE}plan/call-site.js:40:10)`,
      `    at GraphBuilder.addNode (${ENGINE}dataset/graph-builder.js:60:22)`,
      `    at Dataset.map (file://${ENGINE}dataset/dataset.js:77:17)`,
      '    at file:///home/me/jobs/sales.ts:8:6',
      '    at builder (/home/me/jobs/other.ts:3:1)',
    ].join('\n');
    expect(callSiteFromStack(stack, ENGINE)).toBe('sales.ts:8');
  });

  it("in the packaged executor the engine's frames are stratus:…, and the user's frame is still found", () => {
    // Where dist/function-app sits is not where the engine's sources were: its map names them
    // stratus:engine/… (infra/scripts/package-function.mjs), whatever engineDir the bundle has.
    const stack = [
      'Error',
      '    at currentCallSite (stratus:engine/plan/call-site.ts:44:10)',
      '    at GraphBuilder.addNode (stratus:engine/dataset/graph-builder.ts:62:22)',
      '    at Dataset.map (stratus:engine/dataset/dataset.ts:79:17)',
      '    at file:///home/me/jobs/sales.ts:8:6',
    ].join('\n');
    expect(callSiteFromStack(stack, '/home/site/')).toBe('sales.ts:8');
  });

  it("with the built engine's frames mapped to its sources (a driver run with --enable-source-maps), they are still the engine's", () => {
    const stack = [
      'Error',
      '    at currentCallSite (/srv/app/node_modules/stratus/engine/plan/call-site.ts:44:10)',
      '    at Dataset.map (file:///srv/app/node_modules/stratus/engine/dataset/dataset.ts:79:17)',
      '    at file:///home/me/jobs/sales.ts:8:6',
    ].join('\n');
    expect(callSiteFromStack(stack, ENGINE)).toBe('sales.ts:8');
  });

  it('a stack with no user frame gives no call site, and the label falls back to the node id', () => {
    const stack = [
      'Error',
      `    at Dataset.map (${ENGINE}dataset/dataset.js:77:17)`,
      '    at node:internal/x:1:1',
    ].join('\n');
    expect(callSiteFromStack(stack, ENGINE)).toBeUndefined();
    expect(callSiteFromStack(undefined, ENGINE)).toBeUndefined();
    expect(operatorLabel({ op: 'map', id: 3 })).toBe('map (node 3)');
    expect(operatorLabel({ op: 'map', id: 3, callSite: 'sales.ts:8' })).toBe('map at sales.ts:8');
  });

  it('a graph names each operator by the line of the job module that called it', () => {
    const job = defineJob((ctx) =>
      ctx
        .parallelize([1, 2, 3], 2)
        .map((n) => [n % 2, n] as [number, number])
        .reduceByKey((a, b) => a + b)
        .count(),
    );
    const graph = buildJobGraph(job, undefined, { defaultParallelism: 2 });
    const line = (op: string) => graph.nodes.find((n) => n.op === op)?.callSite;
    expect(line('parallelize')).toMatch(/^call-site\.test\.ts:\d+$/);
    expect(line('map')).toMatch(/^call-site\.test\.ts:\d+$/);
    const plan = planJob(graph, 'result');
    expect('stages' in plan && Object.values(plan.nodeLabels).join(' | ')).toMatch(
      /parallelize at call-site\.test\.ts:\d+ \| map at call-site\.test\.ts:\d+/,
    );
    // The job is named by its action's line too, as Spark names jobs (`count at …`).
    expect('stages' in plan && plan.actionCallSite).toMatch(/^call-site\.test\.ts:\d+$/);
    expect('stages' in plan && plan.actionCallSite).not.toBe(line('map'));
  });

  it('the call site is a label, not part of the fingerprint: the same shape from other lines fingerprints the same', () => {
    const a = defineJob((ctx) =>
      ctx
        .parallelize([1, 2], 2)
        .map((n) => n + 1)
        .count(),
    );
    const b = defineJob((ctx) =>
      ctx
        .parallelize([1, 2], 2)
        .map((n) => n + 1)
        .count(),
    );
    const ga = buildJobGraph(a, undefined, { defaultParallelism: 2 });
    const gb = buildJobGraph(b, undefined, { defaultParallelism: 2 });
    expect(ga.nodes[1]!.callSite).not.toBe(gb.nodes[1]!.callSite);
    expect(ga.fingerprint).toBe(gb.fingerprint);
  });
});
