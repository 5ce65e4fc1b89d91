/**
 * The mutable state a job builder fills while it runs: nodes in construction order,
 * shuffle ids, broadcast variables and accumulators. One builder per graph; a graph is
 * then bound to at most one running task at a time (see TaskBinding).
 */
import { ConfigError, StratusError } from '../../contract/errors.js';
import { currentCallSite } from '../plan/call-site.js';
import type { GraphNode, NodeImpl } from '../plan/nodes.js';
import type { OptionValue } from '../plan/option-value.js';

/** What a running task offers to broadcast handles and accumulators. */
export interface TaskBinding {
  broadcastValue(id: number): unknown;
  /** Task-local accumulator updates (name → merged update), reported to the driver. */
  readonly accumulatorUpdates: Map<string, unknown>;
  /** The merged result of hidden job `id` (hidden-jobs.ts), from the task's stage plan. */
  hiddenJobResult(id: number): unknown;
}

/** A node before it gets its id. */
export interface NodeSpec {
  op: string;
  parents: readonly number[];
  requestedPartitions?: number | undefined;
  options?: Record<string, OptionValue>;
  impl: NodeImpl;
}

/** Checks a user-given partition count. */
export function checkPartitionCount(n: number | undefined, what: string): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
    throw new ConfigError(`${what}: number of partitions must be a positive integer, got ${n}`);
  }
}

/** Collects the nodes of one job graph as the builder runs. */
export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  private shuffles = 0;
  /** Broadcast values by id, as this build computed them (tasks read the driver's, through TaskIO). */
  readonly broadcastValues: unknown[] = [];
  /** Accumulator merge state by name. */
  readonly accumulators = new Map<string, AccumulatorState>();
  /** The task this graph is running, if any. */
  task: TaskBinding | undefined;
  /** False once the builder has returned: no more nodes may be added. */
  open = true;

  constructor(readonly defaultParallelism: number) {
    checkPartitionCount(defaultParallelism, 'defaultParallelism');
  }

  /** Append a node; returns its id. */
  addNode(spec: NodeSpec): number {
    if (!this.open) {
      throw new StratusError(
        'GRAPH_CLOSED',
        `${spec.op} was called after the job builder returned; build every dataset inside the builder`,
      );
    }
    const id = this.nodes.length;
    const callSite = currentCallSite();
    this.nodes.push({
      id,
      op: spec.op,
      parents: spec.parents,
      requestedPartitions: spec.requestedPartitions,
      options: spec.options ?? {},
      impl: spec.impl,
      storageLevel: undefined,
      checkpoint: false,
      ...(callSite !== undefined ? { callSite } : {}),
    });
    return id;
  }

  /** The next shuffle id (construction order). */
  nextShuffleId(): number {
    return this.shuffles++;
  }

  /** How many shuffle ids were handed out. */
  get shuffleCount(): number {
    return this.shuffles;
  }
}

/** Driver-side state of one accumulator. */
export interface AccumulatorState {
  readonly name: string;
  value: unknown;
  readonly merge: (a: unknown, b: unknown) => unknown;
}
