/**
 * Spilling: sorted runs written to temporary storage (the executor's SpillStore, temp
 * files in production, memory in tests) and merged back with a k-way merge — the external
 * merge sort under sorting and reduce-side aggregation.
 */
import type { RecordCodec } from '../records/codec.js';
import { decodeChunks } from '../records/codec.js';
import type { MemoryTracker } from '../task/memory.js';

/** Temporary storage for sorted runs, owned by one task; the executor implements it. */
export interface SpillStore {
  /**
   * Persist one run (its chunks in order, pulled one at a time: a lazy iterable is encoded
   * while it is written); returns an id to read it back.
   */
  writeRun(chunks: Iterable<Buffer>): Promise<string>;
  /** The run's bytes in order, in any chunking. */
  readRun(runId: string): AsyncIterable<Buffer>;
  /** `length` bytes of the run from byte `offset`, in order, in any chunking. */
  readRunRange(runId: string, offset: number, length: number): AsyncIterable<Buffer>;
  /** Free a run once merged. */
  deleteRun(runId: string): Promise<void>;
}

/** What spilling consumers share within a task. */
export interface SpillEnv {
  codec: RecordCodec;
  spill: SpillStore;
  memory: MemoryTracker;
}

/** Records per encoded chunk (runs, segments, cached partitions) and per pipeline batch. */
export const BATCH_SIZE = 1024;

/**
 * Encode records as chunks of at most BATCH_SIZE records, lazily: a spill then holds one
 * encoded chunk at a time beside the records, not a second copy of the whole run.
 */
export function* encodeChunks(
  codec: RecordCodec,
  records: readonly unknown[],
  operator: string,
): Iterable<Buffer> {
  for (let i = 0; i < records.length; i += BATCH_SIZE) {
    yield codec.encode(records.slice(i, i + BATCH_SIZE), operator);
  }
}

/** Write a sorted run; counts the spill. */
export async function writeSortedRun(
  env: SpillEnv,
  records: readonly unknown[],
  operator: string,
): Promise<string> {
  env.memory.spillCount++;
  return env.spill.writeRun(encodeChunks(env.codec, records, operator));
}

/** Read a run back as record batches, deleting it when fully read. */
export async function* readSortedRun(env: SpillEnv, runId: string): AsyncIterable<unknown[]> {
  yield* decodeChunks(env.codec, env.spill.readRun(runId));
  await env.spill.deleteRun(runId);
}

/** Yield `records` in batches. */
export function* inBatches(records: readonly unknown[]): Iterable<unknown[]> {
  for (let i = 0; i < records.length; i += BATCH_SIZE) yield records.slice(i, i + BATCH_SIZE);
}

/**
 * Pulls records one by one from batches. `step` is synchronous and only reports that the batch
 * is used up; `refill` (async) is awaited at batch boundaries only — an await per record was
 * most of the merge's cost (one promise and microtask per record of every spilled run).
 */
class Cursor {
  private batch: unknown[] = [];
  private index = 0;
  head: unknown;
  done = false;
  constructor(private readonly source: AsyncIterator<unknown[]>) {}

  /** Move to the next record of the current batch; false when the batch is exhausted (then call refill). */
  step(): boolean {
    if (this.index >= this.batch.length) return false;
    this.head = this.batch[this.index++];
    return true;
  }

  /** Load the next non-empty batch and its first record, or mark the cursor done. */
  async refill(): Promise<void> {
    for (;;) {
      const next = await this.source.next();
      if (next.done) {
        this.done = true;
        this.head = undefined;
        return;
      }
      this.batch = next.value;
      this.index = 0;
      if (this.step()) return;
    }
  }
}

/** K-way merge of sorted record streams by `compare`; yields batches. */
export async function* mergeSorted(
  sources: readonly AsyncIterable<unknown[]>[],
  compare: (a: unknown, b: unknown) => number,
): AsyncIterable<unknown[]> {
  const heap: Cursor[] = [];
  const siftDown = (i: number) => {
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let m = l;
      if (r < n && compare(heap[r]!.head, heap[l]!.head) < 0) m = r;
      if (compare(heap[m]!.head, item.head) >= 0) break;
      heap[i] = heap[m]!;
      i = m;
    }
    heap[i] = item;
  };
  for (const source of sources) {
    const cursor = new Cursor(source[Symbol.asyncIterator]());
    await cursor.refill();
    if (!cursor.done) heap.push(cursor);
  }
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
  let out: unknown[] = [];
  while (heap.length > 0) {
    const top = heap[0]!;
    out.push(top.head);
    if (out.length >= BATCH_SIZE) {
      yield out;
      out = [];
    }
    if (!top.step()) {
      await top.refill();
      if (top.done) {
        const last = heap.pop()!;
        if (heap.length === 0) break;
        heap[0] = last;
      }
    }
    siftDown(0);
  }
  if (out.length > 0) yield out;
}
