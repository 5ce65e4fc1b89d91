/**
 * One partition of a cartesian product (Spark's CartesianRDD.compute): partition `i * n2 + j`
 * pairs every record of partition `i` of this side with every record of partition `j` of the
 * other side, in Spark's order — for each record x of this side, `[x, y]` for each y of the
 * other side, in their partition orders. Both sides are narrow parents computed in the same
 * task (see docs/decisions.md, "cartesian is narrow").
 *
 * Spark recomputes the other side's iterator for every x; we compute it once and keep it, within
 * the task's memory share, and beyond that in spilled runs on the executor's temp storage, which
 * are then read once per x — the same order of work Spark does, with the computation replaced by
 * a local read.
 */
import { decodeChunks } from '../records/codec.js';
import { BATCH_SIZE, encodeChunks, type SpillEnv } from '../shuffle/spill.js';
import { estimateSize } from './memory.js';

/** Which parent partitions output partition `partition` pairs, given the other side's partition count. */
export function cartesianParents(
  partition: number,
  otherPartitions: number,
): { left: number; right: number } {
  return { left: Math.floor(partition / otherPartitions), right: partition % otherPartitions };
}

/** The other side's partition, held in memory up to the consumer's share and spilled in runs beyond it. */
class HeldPartition {
  private readonly memory;
  private held: unknown[] = [];
  private readonly runs: string[] = [];

  constructor(
    private readonly env: SpillEnv,
    private readonly label: string,
  ) {
    this.memory = env.memory.register();
  }

  async add(batch: readonly unknown[]): Promise<void> {
    let bytes = 0;
    for (const r of batch) {
      this.held.push(r);
      bytes += estimateSize(r);
    }
    this.memory.add(bytes);
    if (this.memory.overLimit()) await this.spill();
  }

  private async spill(): Promise<void> {
    this.env.memory.spillCount++;
    this.runs.push(await this.env.spill.writeRun(encodeChunks(this.env.codec, this.held, this.label)));
    this.held = [];
    this.memory.set(0);
  }

  get empty(): boolean {
    return this.runs.length === 0 && this.held.length === 0;
  }

  /** The whole partition when nothing was spilled (no asynchronous read per record then), else undefined. */
  get inMemory(): readonly unknown[] | undefined {
    return this.runs.length === 0 ? this.held : undefined;
  }

  /** The partition's records in order: the spilled runs (read again each time), then what is held. */
  async *batches(): AsyncIterable<readonly unknown[]> {
    for (const run of this.runs) yield* decodeChunks(this.env.codec, this.env.spill.readRun(run));
    if (this.held.length > 0) yield this.held;
  }

  async release(): Promise<void> {
    this.held = [];
    this.memory.release();
    for (const run of this.runs.splice(0)) await this.env.spill.deleteRun(run);
  }
}

/**
 * The pairs of `left` × `right` in Spark's order, in batches of at most BATCH_SIZE. `right` is
 * read to its end first (so a cache()d node under it is cached whole), then `left` is streamed.
 */
export async function* cartesianProduct(
  left: AsyncIterable<unknown[]>,
  right: AsyncIterable<unknown[]>,
  env: SpillEnv,
  label: string,
): AsyncIterable<unknown[]> {
  const other = new HeldPartition(env, label);
  try {
    for await (const batch of right) await other.add(batch);
    let out: unknown[] = [];
    for await (const batch of left) {
      if (other.empty) continue; // left is still read to its end, as Spark iterates it
      for (const x of batch) {
        const held = other.inMemory;
        for await (const ys of held ? [held] : other.batches()) {
          for (const y of ys) {
            out.push([x, y]);
            if (out.length >= BATCH_SIZE) {
              yield out;
              out = [];
            }
          }
        }
      }
    }
    if (out.length > 0) yield out;
  } finally {
    await other.release();
  }
}
