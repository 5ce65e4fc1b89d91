/** A SpillStore in memory, for tests and the in-memory runner: runs are kept as their chunks. */
import type { SpillStore } from '../shuffle/spill.js';

/** Keeps spilled runs in a Map; counts writes so tests can prove that spilling happened. */
export class InMemorySpillStore implements SpillStore {
  private readonly runs = new Map<string, Buffer[]>();
  private next = 0;
  /** Runs ever written. */
  written = 0;
  /** Bytes of the runs ever written. */
  bytesWritten = 0;

  async writeRun(chunks: Iterable<Buffer>): Promise<string> {
    const id = `run-${this.next++}`;
    const list = [...chunks];
    this.runs.set(id, list);
    this.written++;
    for (const chunk of list) this.bytesWritten += chunk.length;
    return id;
  }

  async *readRun(runId: string): AsyncIterable<Buffer> {
    const chunks = this.runs.get(runId);
    if (!chunks) throw new Error(`no spilled run ${runId}`);
    // Re-chunk at odd sizes so records straddle chunk boundaries, as they do in files.
    const all = Buffer.concat(chunks);
    for (let i = 0; i < all.length; i += 777) yield all.subarray(i, i + 777);
  }

  async *readRunRange(runId: string, offset: number, length: number): AsyncIterable<Buffer> {
    const chunks = this.runs.get(runId);
    if (!chunks) throw new Error(`no spilled run ${runId}`);
    const range = Buffer.concat(chunks).subarray(offset, offset + length);
    if (range.length !== length) throw new Error(`spilled run ${runId} has no bytes ${offset}+${length}`);
    for (let i = 0; i < range.length; i += 777) yield range.subarray(i, i + 777);
  }

  async deleteRun(runId: string): Promise<void> {
    this.runs.delete(runId);
  }

  /** Runs not yet deleted (a finished task leaves none). */
  get live(): number {
    return this.runs.size;
  }
}
