/**
 * The executor's store of partitions persisted at 'memory' / 'disk': a task thread sees its
 * application's blocks, hands back what it stored (disk blocks moved out of its temp folder),
 * each level stays under its bound by dropping the blocks stored longest ago, a released node's
 * blocks go, and a block evicted after a task's snapshot is a miss, not an error.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedNodePrefix, cachedPartitionBlobName } from '../../contract/names.js';
import { ExecutorBlockManager } from '../../executor-function/block-manager.js';
import { blockKey, copyKey, nodeBlockPrefix, ThreadBlocks } from '../../executor-function/thread-blocks.js';

let root: string;
let manager: ExecutorBlockManager;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'stratus-blocks-test-'));
  manager = new ExecutorBlockManager(
    { memoryBytes: 100, diskBytes: 100, copyBytes: 100 },
    path.join(root, 'store'),
  );
});
afterEach(async () => {
  manager.close();
  await rm(root, { recursive: true, force: true });
});

/** Run one "task": it stores `blocks` through a ThreadBlocks, and the manager accepts them. */
async function task(appId: string, store: [key: string, level: 'memory' | 'disk', size: number][]) {
  const tempDir = await mkdtemp(path.join(root, 'task-'));
  const thread = new ThreadBlocks(manager.snapshot(appId), tempDir);
  for (const [key, level, size] of store) await thread.put(key, level, new Uint8Array(size).fill(size));
  manager.accept(thread.collect());
  return thread;
}

const key = (p: number, app = 'app-a') => blockKey(`${app}/run-0`, 3, p);

describe('executor block manager', () => {
  it("a later task reads the blocks an earlier one stored, memory and disk, but not another application's", async () => {
    await task('app-a', [
      [key(0), 'memory', 10],
      [key(1), 'disk', 20],
    ]);
    await task('app-b', [[key(0, 'app-b'), 'memory', 5]]);
    const reader = new ThreadBlocks(manager.snapshot('app-a'), root);
    const bytes = (b: Uint8Array | undefined) => b && Array.from(b);
    expect(bytes(await reader.get(key(0), 'memory'))).toEqual(Array(10).fill(10));
    expect(bytes(await reader.get(key(1), 'disk'))).toEqual(Array(20).fill(20));
    expect(await reader.get(key(1), 'memory')).toBeUndefined();
    expect(await reader.get(key(0, 'app-b'), 'memory')).toBeUndefined();
    expect(await readdir(path.join(root, 'store'))).toHaveLength(1);
  });

  it('each level stays under its bound: the blocks stored longest ago are dropped first', async () => {
    await task('app-a', [
      [key(0), 'memory', 40],
      [key(1), 'memory', 40],
      [key(2), 'disk', 60],
    ]);
    await task('app-a', [
      [key(3), 'memory', 40],
      [key(4), 'disk', 60],
      [key(5), 'memory', 500],
    ]);
    const snapshot = manager.snapshot('app-a');
    expect(Object.keys(snapshot.memory).sort()).toEqual([key(1), key(3)]);
    expect(snapshot.disk).toEqual([key(4)]);
    expect(manager.bytesAt('memory')).toBe(80);
    expect(manager.bytesAt('disk')).toBe(60);
    expect(await readdir(path.join(root, 'store'))).toHaveLength(1);
  });

  it("a released node's blocks are dropped; a block evicted after a task's snapshot is a miss", async () => {
    await task('app-a', [
      [key(0), 'disk', 30],
      [blockKey('app-a/run-0', 4, 0), 'memory', 10],
    ]);
    const reader = new ThreadBlocks(manager.snapshot('app-a'), root);
    const releaser = await task('app-a', []);
    releaser.release(nodeBlockPrefix('app-a/run-0', 3));
    manager.accept(releaser.collect());
    expect(manager.snapshot('app-a').disk).toEqual([]);
    expect(Object.keys(manager.snapshot('app-a').memory)).toEqual([blockKey('app-a/run-0', 4, 0)]);
    expect(await reader.get(key(0), 'disk')).toBeUndefined();
  });

  describe('memory copies of blob-stored partitions', () => {
    const blob = (p: number, app = 'app-a', node = 3) =>
      cachedPartitionBlobName(`${app}/run-0`, node, p, `exec-${p}`);
    /** One "task" that keeps copies of the blobs `sizes` names and reads `read`; returns what it read. */
    function copyTask(appId: string, keep: [blob: string, size: number][], read: string[] = []) {
      const thread = new ThreadBlocks(manager.snapshot(appId), root);
      for (const [b, size] of keep) thread.putCopy(copyKey(appId, b), new Uint8Array(size).fill(size));
      const got = read.map((b) => {
        const copy = thread.getCopy(copyKey(appId, b));
        return copy && Array.from(copy);
      });
      manager.accept(thread.collect());
      return got;
    }

    it("a later task finds the copy of the same blob, never another blob's or another application's", () => {
      copyTask('app-a', [[blob(0), 7]]);
      copyTask('app-b', [[blob(0, 'app-b'), 9]]);
      expect(copyTask('app-a', [], [blob(0), blob(1), blob(0, 'app-b')])).toEqual([
        Array(7).fill(7),
        undefined,
        undefined,
      ]);
      // Another application's task cannot even name app-a's copy: its key carries its own appId.
      expect(copyTask('app-b', [], [blob(0)])).toEqual([undefined]);
    });

    it('copies stay under their bound, evicting the least recently used first (a read counts as a use)', () => {
      copyTask('app-a', [
        [blob(0), 40],
        [blob(1), 40],
      ]);
      copyTask('app-a', [], [blob(0)]); // blob 0 is now more recent than blob 1
      copyTask('app-a', [[blob(2), 40]]);
      const keys = (ids: number[]) => ids.map((p) => manager.hasCopy(copyKey('app-a', blob(p))));
      expect(keys([0, 1, 2])).toEqual([true, false, true]);
      expect(manager.copyBytes).toBe(80);
      expect(manager.copiesEvicted).toBe(1);
      copyTask('app-a', [[blob(3), 101]]); // larger than the bound: not kept, nothing evicted
      expect(keys([0, 1, 2, 3])).toEqual([true, false, true, false]);
      expect(manager.copyBytes).toBe(80);
    });

    it("an unpersisted node's copies and an ended application's blocks and copies are dropped", () => {
      copyTask('app-a', [
        [blob(0), 10],
        [blob(0, 'app-a', 4), 10],
      ]);
      copyTask('app-b', [[blob(0, 'app-b'), 10]]);
      const releaser = new ThreadBlocks(manager.snapshot('app-a'), root);
      releaser.release(copyKey('app-a', cachedNodePrefix('app-a/run-0', 3)));
      // Released within the task itself: the task does not read it either.
      expect(releaser.getCopy(copyKey('app-a', blob(0)))).toBeUndefined();
      manager.accept(releaser.collect());
      expect(manager.hasCopy(copyKey('app-a', blob(0)))).toBe(false);
      expect(manager.hasCopy(copyKey('app-a', blob(0, 'app-a', 4)))).toBe(true);
      expect(manager.appIds().sort()).toEqual(['app-a', 'app-b']);
      manager.release('app-a/');
      expect(manager.appIds()).toEqual(['app-b']);
      expect(manager.copyBytes).toBe(10);
    });

    it('a setting of 0 keeps no copies', () => {
      manager.close();
      manager = new ExecutorBlockManager(
        { memoryBytes: 100, diskBytes: 100, copyBytes: 0 },
        path.join(root, 'store'),
      );
      copyTask('app-a', [[blob(0), 1]]);
      expect(manager.hasCopy(copyKey('app-a', blob(0)))).toBe(false);
    });
  });
});
