/**
 * Spilled runs of one task execution as files in its temp folder (removed with the folder
 * when the task ends): the reduce side's sorted runs and the map side's spilled output.
 */
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SpillStore } from '../engine/shuffle/spill.js';

/** Read spilled files in chunks of this size (bytes). */
const READ_CHUNK_BYTES = 1024 * 1024;

/** A SpillStore over files in `dir`, which must exist and belong to this execution alone. */
export class TempFileSpillStore implements SpillStore {
  private next = 0;
  constructor(private readonly dir: string) {}

  async writeRun(chunks: Iterable<Buffer>): Promise<string> {
    const file = path.join(this.dir, `run-${this.next++}.bin`);
    await writeFile(file, chunks);
    return file;
  }

  readRun(runId: string): AsyncIterable<Buffer> {
    return createReadStream(runId, { highWaterMark: READ_CHUNK_BYTES });
  }

  async *readRunRange(runId: string, offset: number, length: number): AsyncIterable<Buffer> {
    if (length === 0) return;
    // `end` is inclusive.
    let read = 0;
    for await (const chunk of createReadStream(runId, {
      start: offset,
      end: offset + length - 1,
      highWaterMark: READ_CHUNK_BYTES,
    })) {
      read += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (read !== length) throw new Error(`internal: spilled run ${runId} is short at ${offset}+${length}`);
  }

  async deleteRun(runId: string): Promise<void> {
    await rm(runId, { force: true });
  }
}
