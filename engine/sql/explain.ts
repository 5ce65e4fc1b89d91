/**
 * What the driver answers for a DataFrame's `schema`, `printSchema()` and `explain()` without
 * running a job: the bound schema, Spark's schema tree, and the plan — the logical plan as the
 * user wrote it, then the stages the scheduler will run, each with its exchange and the SQL
 * its tasks run in DuckDB.
 */
import type { Action } from '../dataset/actions.js';
import type { JobGraph } from '../plan/graph.js';
import { isSamplingRequest, type JobPlan, planJob } from '../plan/stages.js';
import type { Key } from '../records/keys.js';
import { columnName } from './column.js';
import { dataFrameActionKind } from './df-actions.js';
import { logicalPlanString } from './logical-plan.js';
import { logicalPlanOf } from './logical-plans.js';
import { exchangeSpecOf } from './planner.js';
import { boundFragmentOf, relationalStageProgram } from './program.js';
import { type StructType, schemaTreeString } from './types.js';

function physicalPlan(
  graph: JobGraph,
  action: Action<unknown>,
  actionName: string,
  sourcePartitions: ReadonlyMap<number, number>,
  scanNotes: ReadonlyMap<number, string>,
): string {
  // Range bounds are sampled at run time; plan with placeholders of the asked-for partition count.
  const rangeBounds = new Map<number, Key[]>();
  let plan: JobPlan | undefined;
  for (let i = 0; i < 100 && !plan; i++) {
    const planned = planJob(graph, { name: actionName }, { rangeBounds, sourcePartitions });
    if (!isSamplingRequest(planned)) plan = planned;
    else {
      if (!planned.needsSampling) return '(a hidden job other than a sort sample: not a DataFrame plan)';
      const { nodeId, numPartitions } = planned.needsSampling;
      rangeBounds.set(
        nodeId,
        Array.from({ length: numPartitions - 1 }, (_, k) => [k, []] as Key),
      );
    }
  }
  if (!plan) return '(the plan could not be built)';
  const lines: string[] = [];
  for (const stage of plan.stages) {
    let head = `Stage ${stage.stageId} (${stage.kind}, ${stage.numPartitions} task${stage.numPartitions === 1 ? '' : 's'})`;
    if (stage.shuffle) {
      const spec = exchangeSpecOf(graph.shuffleDependency(stage.shuffle.shuffleId).node);
      const n = stage.shuffle.numReducePartitions;
      const mapSide = graph.node(stage.rddNodeId);
      // A join on a condition: its keys were found by the binder.
      const keys =
        spec?.mode === 'hash' && spec.keys.length === 0 && mapSide.impl.type === 'relational'
          ? (mapSide.impl.fragment.exchangeKeys ?? [])
          : spec?.mode === 'hash'
            ? spec.keys
            : [];
      if (stage.shuffle.partitioner.kind === 'direct')
        head += ` → Dataset ⇄ DataFrame bridge (direct exchange: each of ${n} partitions to its own index, rows in the record codec)`;
      else if (spec?.mode === 'hash')
        head += ` → hash exchange into ${n} partitions on [${keys.map(columnName).join(', ')}]`;
      else if (spec?.mode === 'broadcast') {
        const why =
          spec.reason === 'hint' ? 'broadcast(df) hint' : 'at most spark.sql.autoBroadcastJoinThreshold';
        const size =
          spec.estimatedBytes !== undefined ? `estimated ${bytesText(spec.estimatedBytes)}, ${why}` : why;
        head += ` → BroadcastExchange (one partition, read whole by every task of the join stage; ${size})`;
      } else if (spec?.mode === 'hashAll') head += ` → hash exchange into ${n} partitions on every column`;
      else if (spec?.mode === 'roundRobin') head += ` → round-robin exchange into ${n} partitions`;
      else if (spec?.mode === 'range')
        head += ` → range exchange into ${n} partitions on [${spec.orders.map(columnName).join(', ')}] (bounds from a sampling job)`;
      else
        head += ` → single-partition exchange${spec?.mode === 'single' && spec.note ? ` (${spec.note})` : ''}`;
    } else head += ` → ${action.op}`;
    lines.push(head);
    const node = graph.node(stage.rddNodeId);
    if (node.impl.type !== 'relational')
      lines.push(`  Dataset pipeline: ${stage.pipeline.map((id) => graph.operatorLabel(id)).join(' → ')}`);
    if (node.impl.type === 'relational') {
      const program = relationalStageProgram(graph, plan, {
        ...stage,
        ...(stage.shuffle?.partitioner.kind === 'range'
          ? {
              shuffle: {
                ...stage.shuffle,
                partitioner: { kind: 'hash', n: stage.shuffle.numReducePartitions },
              },
            }
          : {}),
      });
      const input = program?.input;
      lines.push(
        `  input: ${input?.kind === 'scan' ? `${input.format} scan of node ${input.nodeId}${scanNotes.has(input.nodeId) ? ` (${scanNotes.get(input.nodeId)})` : ''}` : input?.kind === 'exchange' ? `shuffle ${input.shuffleId}` : input?.kind === 'join' ? `shuffles ${input.left.shuffleId} (left) and ${input.right.shuffleId} (right)` : input?.kind === 'records' ? `Dataset rows of shuffle ${input.shuffleId} (toDF, checked against the schema)` : 'local rows'}`,
      );
      for (const b of program?.broadcasts ?? [])
        lines.push(
          `  broadcast: shuffle ${b.shuffleId} as ${b.relation} (BroadcastHashJoin, this side not exchanged)`,
        );
      lines.push(`  SQL: ${boundFragmentOf(node).bound.sql}`);
    }
  }
  return lines.join('\n');
}

/** A size estimate as explain() prints it: bytes exactly, and in KiB / MiB / GiB when larger. */
function bytesText(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = '';
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  return unit === '' ? `${bytes} bytes` : `${value.toFixed(1)} ${unit} (${bytes} bytes)`;
}

/** The result of a driver-side DataFrame action (schema, printSchema, explain); undefined for any other action. */
export function driverSideResult(
  graph: JobGraph,
  action: Action<unknown>,
  actionName: string,
  sourcePartitions: ReadonlyMap<number, number>,
  /** A line per scan node saying what input planning found (Parquet row groups read and skipped). */
  scanNotes: ReadonlyMap<number, string> = new Map(),
): unknown {
  const kind = dataFrameActionKind(action);
  if (kind !== 'schema' && kind !== 'printSchema' && kind !== 'explain') return undefined;
  const schema: StructType = boundFragmentOf(graph.node(action.nodeId)).bound.output;
  if (kind === 'schema') return schema;
  if (kind === 'printSchema') return schemaTreeString(schema);
  const logical = logicalPlanOf(action);
  const parsed = logical ? logicalPlanString(logical, columnName) : '(unknown)';
  return `== Parsed Logical Plan ==\n${parsed}\n\n== Physical Plan ==\n${physicalPlan(graph, action, actionName, sourcePartitions, scanNotes)}\n`;
}
