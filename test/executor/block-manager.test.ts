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
import { ExecutorBlockManager } from '../../executor-function/block-manager.js';
import { blockKey, nodeBlockPrefix, ThreadBlocks } from '../../executor-function/thread-blocks.js';

let root: string;
let manager: ExecutorBlockManager;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'stratus-blocks-test-'));
  manager = new ExecutorBlockManager({ memoryBytes: 100, diskBytes: 100 }, path.join(root, 'store'));
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
});
