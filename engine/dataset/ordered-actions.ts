/**
 * The ordered actions — takeOrdered, top, max, min — as Spark's: takeOrdered keeps a bounded
 * priority queue of the best n records per partition and the driver merges the queues (RDD
 * .takeOrdered); top is takeOrdered in reverse order; max and min are a reduce with the ordering.
 *
 * Order is compareKeys (docs/concepts-keys.md) over the records, which must then be Keys, or over
 * the key a function computes from each record. Ties keep the dataset's order (partition, then
 * position), so the result is the first n of a stable sort: deterministic, unlike Spark's.
 *
 * Partial: the partition's best n records, best first — as `[key, record]` pairs with a key
 * function (the driver compares keys without running user code), bare records without one.
 */
import { EmptyCollectionError } from '../../contract/errors.js';
import { compareKeys, type Key } from '../records/keys.js';
import type { ActionImpl } from './actions.js';

/** Ascending (takeOrdered, min) or descending (top, max). */
export type Direction = 1 | -1;

interface Entry {
  key: unknown;
  record: unknown;
  /** Position in the partition: earlier wins a tie. */
  seq: number;
}

/** A max-heap of the n best entries seen, the worst at the root (Spark's BoundedPriorityQueue). */
class BoundedHeap {
  private readonly heap: Entry[] = [];

  constructor(
    private readonly n: number,
    private readonly direction: Direction,
  ) {}

  /** Positive when `a` is worse than `b`: later in the order, or equal and later in the partition. */
  private worse(a: Entry, b: Entry): number {
    return this.direction * compareKeys(a.key, b.key) || a.seq - b.seq;
  }

  offer(entry: Entry): void {
    const heap = this.heap;
    if (heap.length < this.n) {
      // The first key is never compared with another: check it is one.
      if (heap.length === 0) compareKeys(entry.key, entry.key);
      heap.push(entry);
      this.siftUp(heap.length - 1);
    } else if (this.worse(entry, heap[0]!) < 0) {
      heap[0] = entry;
      this.siftDown(0);
    }
  }

  /** The entries, best first. */
  sorted(): Entry[] {
    return [...this.heap].sort((a, b) => this.worse(a, b));
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.worse(heap[i]!, heap[parent]!) <= 0) return;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < heap.length && this.worse(heap[left]!, heap[worst]!) > 0) worst = left;
      if (right < heap.length && this.worse(heap[right]!, heap[worst]!) > 0) worst = right;
      if (worst === i) return;
      [heap[i], heap[worst]] = [heap[worst]!, heap[i]!];
      i = worst;
    }
  }
}

/**
 * The best `n` records in `direction` order, best first, by `key` (or by the records themselves).
 * `n` is a checked non-negative integer.
 */
export function orderedImpl(
  n: number,
  direction: Direction,
  key: ((record: unknown) => unknown) | undefined,
): ActionImpl {
  return {
    async partial(batches) {
      if (n === 0) return [];
      const heap = new BoundedHeap(n, direction);
      let seq = 0;
      for await (const batch of batches) {
        for (const record of batch) heap.offer({ key: key ? key(record) : record, record, seq: seq++ });
      }
      return heap.sorted().map((e) => (key ? [e.key, e.record] : e.record));
    },
    merge(partials) {
      // Concatenated in partition order, so a stable sort keeps ties in dataset order.
      const all = (partials as unknown[][]).flat().map((p) => (key ? (p as [Key, unknown]) : [p, p]));
      all.sort((a, b) => direction * compareKeys(a[0], b[0]));
      return all.slice(0, n).map((e) => e[1]);
    },
  };
}

/** max (direction -1) or min (1): the best record; fails with EMPTY_COLLECTION naming `label` when there is none. */
export function extremeImpl(
  label: string,
  direction: Direction,
  key: ((record: unknown) => unknown) | undefined,
): ActionImpl {
  const best = orderedImpl(1, direction, key);
  return {
    partial: best.partial,
    merge(partials, hidden) {
      const [winner] = best.merge(partials, hidden) as unknown[];
      if ((partials as unknown[][]).every((p) => p.length === 0)) throw new EmptyCollectionError(label);
      return winner;
    },
  };
}
