/**
 * The output of one map task while it is written: R segments of encoded chunks, held in
 * memory up to the task's memory share and spilled beyond it. A spill writes every held
 * chunk to one run of the task's SpillStore, segment after segment, and remembers each
 * segment's byte range in it; reading segment p back yields its ranges of every spill in
 * spill order, then its chunks still in memory — the bytes in the order they were written,
 * so segment sizes are exact and the executor streams the output in partition order.
 */
import type { MemoryConsumer, MemoryTracker } from '../task/memory.js';
import type { SpillStore } from './spill.js';

/** A map task's finished output (see MapOutputBuffer). */
export interface MapOutput {
  /** Byte size of each of the R segments: what the driver's map-output table records. */
  readonly segmentSizes: readonly number[];
  /** The bytes of segment `p`, in order, in any chunking. */
  readSegment(p: number): AsyncIterable<Buffer>;
  /** Delete the spilled runs; call once the output is written (or the task failed). */
  discard(): Promise<void>;
}

/** One spill: a run holding every segment's chunks of the time, back to back. */
interface SpilledRun {
  runId: string;
  /** Per segment: where its bytes start in the run, and how many there are. */
  offsets: number[];
  lengths: number[];
}

/** Encoded chunks of R segments, accounted as one memory consumer and spilled over its share. */
export class MapOutputBuffer implements MapOutput {
  private chunks: Buffer[][];
  private spilled: SpilledRun[] = [];
  private readonly sizes: number[];
  private readonly memory: MemoryConsumer;

  constructor(
    numSegments: number,
    private readonly env: { spill: SpillStore; memory: MemoryTracker },
  ) {
    this.chunks = Array.from({ length: numSegments }, () => []);
    this.sizes = new Array<number>(numSegments).fill(0);
    this.memory = env.memory.register();
  }

  get segmentSizes(): readonly number[] {
    return this.sizes;
  }

  /** Append an encoded chunk to segment `p` (the buffer is kept, not copied). */
  add(p: number, chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks[p]!.push(chunk);
    this.sizes[p]! += chunk.length;
    this.memory.add(chunk.length);
  }

  /** Spill every chunk held when they are over this consumer's share of the task's budget. */
  async spillIfOverLimit(): Promise<void> {
    if (this.memory.overLimit()) await this.spill();
  }

  private async spill(): Promise<void> {
    const all: Buffer[] = [];
    const offsets: number[] = [];
    const lengths: number[] = [];
    let offset = 0;
    this.chunks.forEach((list, p) => {
      let length = 0;
      for (const chunk of list) {
        all.push(chunk);
        length += chunk.length;
      }
      offsets[p] = offset;
      lengths[p] = length;
      offset += length;
    });
    this.env.memory.spillCount++;
    const runId = await this.env.spill.writeRun(all);
    this.spilled.push({ runId, offsets, lengths });
    this.chunks = this.chunks.map(() => []);
    this.memory.set(0);
  }

  /**
   * Stop accounting: the output is complete. The chunks still in memory stay until the
   * output is read; no other consumer of the task competes for memory any more.
   */
  seal(): void {
    this.memory.release();
  }

  async *readSegment(p: number): AsyncIterable<Buffer> {
    for (const run of this.spilled) {
      const length = run.lengths[p]!;
      if (length > 0) yield* this.env.spill.readRunRange(run.runId, run.offsets[p]!, length);
    }
    yield* this.chunks[p]!;
  }

  async discard(): Promise<void> {
    const runs = this.spilled;
    this.spilled = [];
    this.chunks = this.chunks.map(() => []);
    this.memory.release();
    for (const run of runs) await this.env.spill.deleteRun(run.runId);
  }
}

/** Every segment of `output` as one buffer (tests and the in-memory runner; executors stream). */
export async function readSegments(output: MapOutput): Promise<Buffer[]> {
  const segments: Buffer[] = [];
  for (let p = 0; p < output.segmentSizes.length; p++) {
    const parts: Buffer[] = [];
    for await (const chunk of output.readSegment(p)) parts.push(chunk);
    segments.push(Buffer.concat(parts));
  }
  return segments;
}
