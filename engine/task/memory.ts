/**
 * Memory accounting for one task: reduce-side aggregation, sorting and map-side combining
 * each register as a consumer and keep an estimate of the bytes they hold. A consumer over
 * its share of the budget (budget / active consumers) spills (or flushes) — Spark's
 * execution memory, simplified. Estimates are rough by design: they only need to scale
 * with the real heap use.
 */

/** Rough heap bytes of a record (V8 object overheads approximated). */
export function estimateSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 16 + 2 * value.length;
    case 'number':
      return 8;
    case 'boolean':
    case 'undefined':
      return 4;
    case 'object': {
      if (value === null) return 4;
      if (Array.isArray(value)) {
        let size = 16 + 8 * value.length;
        for (const v of value) size += estimateSize(v);
        return size;
      }
      let size = 32;
      for (const [k, v] of Object.entries(value)) size += 16 + 2 * k.length + estimateSize(v);
      return size;
    }
    default:
      return 16;
  }
}

/**
 * estimateSize of a [key, value] record, with the common case — two strings — computed without
 * the generic walk (the sorter estimates every record it buffers: that walk was a visible part
 * of its profile). Same figure as estimateSize.
 */
export function estimateRecordSize(record: unknown): number {
  if (Array.isArray(record) && record.length === 2) {
    const k: unknown = record[0];
    const v: unknown = record[1];
    if (typeof k === 'string' && typeof v === 'string') return 64 + 2 * (k.length + v.length);
  }
  return estimateSize(record);
}

/** One consumer's share of a task's memory. */
export class MemoryConsumer {
  private held = 0;
  constructor(private readonly tracker: MemoryTracker) {}

  /** Bytes this consumer holds now (estimate). */
  get bytes(): number {
    return this.held;
  }

  /** Set the estimate. */
  set(bytes: number): void {
    this.tracker.adjust(bytes - this.held);
    this.held = bytes;
  }

  /** Add to the estimate. */
  add(bytes: number): void {
    this.set(this.held + bytes);
  }

  /** True when this consumer should spill: over its share of the budget. */
  overLimit(): boolean {
    return this.held > this.tracker.shareBytes();
  }

  /** Stop accounting (the consumer's data is gone or handed on). */
  release(): void {
    this.set(0);
    this.tracker.unregister(this);
  }
}

/** A task's memory budget shared by its consumers, with peak and spill counters for metrics. */
export class MemoryTracker {
  private readonly consumers = new Set<MemoryConsumer>();
  private used = 0;
  /** Highest total estimate seen. */
  peakBytes = 0;
  /** Sorted runs written to the SpillStore. */
  spillCount = 0;

  constructor(readonly budgetBytes: number) {}

  /** A new consumer. */
  register(): MemoryConsumer {
    const c = new MemoryConsumer(this);
    this.consumers.add(c);
    return c;
  }

  /** @internal */
  unregister(c: MemoryConsumer): void {
    this.consumers.delete(c);
  }

  /** @internal */
  adjust(delta: number): void {
    this.used += delta;
    if (this.used > this.peakBytes) this.peakBytes = this.used;
  }

  /** What one consumer may hold: the budget split evenly among active consumers. */
  shareBytes(): number {
    return this.budgetBytes / Math.max(1, this.consumers.size);
  }
}
