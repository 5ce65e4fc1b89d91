/**
 * Broadcast variables and accumulators (Spark's shared variables).
 *
 * A broadcast's value is computed by the builder on the driver and read inside tasks only:
 * the driver encodes each value with the record codec into a blob once per run
 * (encodeBroadcastValue), the stage descriptor names the blobs, and an executor's TaskIO
 * serves the decoded driver value to every task. The value the executor's own rebuild of
 * the builder computes is never used, so it may differ (a file or variable only the
 * driver has).
 * An accumulator is added to inside tasks; each task reports its merged updates with its
 * result and the driver folds them, once per partition, into the value it reads after
 * the run (JobGraph.mergeAccumulatorUpdates / accumulatorValues). The first update of a
 * task is taken as is, so no zero value is needed: merge must be associative.
 */

import { ConfigError, StratusError } from '../../contract/errors.js';
import { DEFAULT_CODEC_NAME, getCodec } from '../records/codec.js';
import { unsupportedValue } from '../records/record-values.js';
import type { GraphBuilder } from './graph-builder.js';

/** A read-only value computed on the driver and shipped once per run to executors; `.value` is available inside tasks only. */
export class Broadcast<T> {
  /** @internal */
  constructor(
    /** The broadcast's number in its job graph, in creation order. */
    readonly id: number,
    private readonly builder: GraphBuilder,
  ) {}

  /** The value, inside a task. Throws BROADCAST_OUTSIDE_TASK elsewhere (the builder, the driver). */
  get value(): T {
    const task = this.builder.task;
    if (!task) {
      throw new StratusError(
        'BROADCAST_OUTSIDE_TASK',
        `broadcast ${this.id}: .value is only available inside tasks (read it in a closure, not in the builder)`,
      );
    }
    return task.broadcastValue(this.id) as T;
  }
}

/** A value tasks add to and the driver reads after the run. */
export class Accumulator<T> {
  /** @internal */
  constructor(
    /** The name given to `ctx.accumulator`, unique in its job; results and the run summary use it. */
    readonly name: string,
    private readonly builder: GraphBuilder,
  ) {}

  private get state() {
    return this.builder.accumulators.get(this.name)!;
  }

  /** Add `v`: inside a task to the task's update, elsewhere directly to the driver value. */
  add(v: T): void {
    const task = this.builder.task;
    const { merge } = this.state;
    if (task) {
      const updates = task.accumulatorUpdates;
      updates.set(this.name, updates.has(this.name) ? merge(updates.get(this.name), v) : v);
    } else {
      this.state.value = merge(this.state.value, v);
    }
  }

  /** The driver's value (initial value merged with every task's update). Not readable inside tasks. */
  get value(): T {
    if (this.builder.task) {
      throw new StratusError(
        'ACCUMULATOR_IN_TASK',
        `accumulator ${this.name}: .value cannot be read inside a task`,
      );
    }
    return this.state.value as T;
  }
}

function defaultMerge(name: string, initial: unknown): (a: unknown, b: unknown) => unknown {
  if (typeof initial === 'number') return (a, b) => (a as number) + (b as number);
  if (Array.isArray(initial)) return (a, b) => (a as unknown[]).concat(b as unknown[]);
  throw new ConfigError(
    `accumulator ${name}: give a merge function for a non-number, non-array initial value`,
  );
}

/**
 * The blob bytes of broadcast `id`'s value: one record of the default record codec, which
 * carries every record value (docs/concepts.md, "Record values") exactly. Throws
 * BROADCAST_NOT_ENCODABLE naming the broadcast and the path of the bad part (`value.f: a
 * function`) for anything else: a function, a class instance, a cycle.
 */
export function encodeBroadcastValue(id: number, value: unknown): Buffer {
  const bad = unsupportedValue(value, 'value');
  if (bad) {
    throw new StratusError(
      'BROADCAST_NOT_ENCODABLE',
      `broadcast ${id}: its value cannot be shipped to executors: ${bad}`,
    );
  }
  return getCodec(DEFAULT_CODEC_NAME).encode([value], `broadcast ${id}`);
}

/** The value of a broadcast blob written by encodeBroadcastValue. Throws RecordDecodingError for other bytes. */
export function decodeBroadcastValue(bytes: Uint8Array): unknown {
  const records = getCodec(DEFAULT_CODEC_NAME).decode(bytes);
  if (records.length !== 1) {
    throw new StratusError('RECORD_NOT_DECODABLE', `a broadcast blob holds ${records.length} records, not 1`);
  }
  return records[0];
}

/** Register a broadcast value on the builder. */
export function createBroadcast<T>(builder: GraphBuilder, value: T): Broadcast<T> {
  const id = builder.broadcastValues.length;
  builder.broadcastValues.push(value);
  return new Broadcast<T>(id, builder);
}

/** Register an accumulator on the builder; names are unique per job. */
export function createAccumulator<T>(
  builder: GraphBuilder,
  name: string,
  initial: T,
  merge?: (a: T, b: T) => T,
): Accumulator<T> {
  if (builder.accumulators.has(name))
    throw new ConfigError(`accumulator ${JSON.stringify(name)} is defined twice`);
  const m = (merge as ((a: unknown, b: unknown) => unknown) | undefined) ?? defaultMerge(name, initial);
  builder.accumulators.set(name, { name, value: initial, merge: m });
  return new Accumulator<T>(name, builder);
}
