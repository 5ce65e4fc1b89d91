/**
 * The MapOutputTracker on its own (Spark's MapOutputTrackerMaster): the first output recorded
 * for a map partition wins, a table is written only when every map partition has one and then
 * once, and a shuffle whose outputs were lost starts over with a table of a new name.
 */
import { describe, expect, it } from 'vitest';
import { DATA_CONTAINER, mapOutputTableBlobName } from '../../contract/names.js';
import { blobDigest } from '../../contract/signing.js';
import { type MapOutputTable, MapOutputTracker } from '../../driver/scheduler/map-output-tracker.js';
import { MemoryBlobs } from '../../driver/testing/memory-blobs.js';

const SCOPE = 'app-unit/run-0';
const status = (blob: string, sizes: number[]) => ({ blob, segmentSizes: sizes });

describe('map output tracker', () => {
  it('keeps the first output of a map partition and writes the table once, pinned by its hash', async () => {
    const blobs = new MemoryBlobs();
    const tracker = new MapOutputTracker(SCOPE, blobs);
    tracker.register(0, 2, 3);
    tracker.registerMapOutput(0, 1, status('m1-first', [1, 2, 3]));
    tracker.registerMapOutput(0, 1, status('m1-speculative', [9, 9, 9])); // a late duplicate
    tracker.registerMapOutput(0, 0, status('m0', [4, 0, 6]));
    expect(tracker.bytesWritten(0)).toBe(16);

    const published = await tracker.publish(0);
    expect(published.blob).toBe(mapOutputTableBlobName(SCOPE, 0));
    const text = (await blobs.get(DATA_CONTAINER, published.blob)).toString('utf8');
    expect(published.sha256).toBe(blobDigest(text));
    const table = JSON.parse(text) as MapOutputTable;
    expect(table.outputs.map((o) => o.blob)).toEqual(['m0', 'm1-first']);
    expect(await tracker.publish(0)).toEqual(published);
    expect(tracker.isAvailable(0)).toBe(true);
  });

  it('refuses a table with a map partition missing, and an output with the wrong number of segments', async () => {
    const tracker = new MapOutputTracker(SCOPE, new MemoryBlobs());
    tracker.register(0, 2, 2);
    tracker.registerMapOutput(0, 0, status('m0', [1, 1]));
    await expect(tracker.publish(0)).rejects.toThrow('no output for map partition 1');
    expect(() => tracker.registerMapOutput(0, 1, status('m1', [1]))).toThrow(
      'reported 1 segments, expected 2',
    );
    expect(tracker.isAvailable(0)).toBe(false);
  });

  it('forgets a lost shuffle: its outputs are recorded afresh and its next table gets a new name', async () => {
    const blobs = new MemoryBlobs();
    const tracker = new MapOutputTracker(SCOPE, blobs);
    tracker.register(0, 1, 1);
    tracker.registerMapOutput(0, 0, status('first-run', [5]));
    const first = await tracker.publish(0);

    tracker.forget(0);
    expect(tracker.isAvailable(0)).toBe(false);
    tracker.register(0, 1, 1);
    tracker.registerMapOutput(0, 0, status('second-run', [7]));
    const second = await tracker.publish(0);
    expect(second.blob).toBe(mapOutputTableBlobName(SCOPE, 0, 1));
    expect(second.blob).not.toBe(first.blob);
    // The first table is untouched: a task pinned to its hash can still read it.
    expect(blobDigest((await blobs.get(DATA_CONTAINER, first.blob)).toString('utf8'))).toBe(first.sha256);
    expect(tracker.bytesWritten(0)).toBe(7);
  });
});
