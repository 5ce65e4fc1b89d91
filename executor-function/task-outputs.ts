/**
 * How a stage task's outputs reach storage without being held whole: a map output is
 * streamed, segment after segment, into staged blocks of its execution-named blob, which the
 * task commits itself (the driver picks the winner by name).
 */
import type { MapOutput } from '../engine/map-output.js';
import { DATA_CONTAINER } from '../engine/names.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BlockBlobWriter } from '../storage/block-writer.js';

/**
 * Write `output`'s R segments back to back into blob `name` (data container), committed, and
 * delete its spilled runs. The blob holds exactly the bytes the segment sizes describe.
 */
export async function writeMapOutput(blobs: BlobStore, name: string, output: MapOutput): Promise<void> {
  try {
    const writer = new BlockBlobWriter(blobs, DATA_CONTAINER, name, { commit: true });
    for (let p = 0; p < output.segmentSizes.length; p++) {
      for await (const chunk of output.readSegment(p)) await writer.write(chunk);
    }
    const { bytes } = await writer.finish();
    const expected = output.segmentSizes.reduce((n, s) => n + s, 0);
    if (bytes !== expected)
      throw new Error(`internal: map output ${name} has ${bytes} bytes, not ${expected}`);
  } finally {
    await output.discard();
  }
}
