/**
 * The scheduler's ports hold: the storage classes satisfy them as they are (checked by the
 * compiler), and no file of driver/scheduler reads the real time or starts a real timer except
 * the system clock itself — everything else takes the Clock it is given.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BlobPort, TaskQueue } from '../../driver/scheduler/ports.js';
import { systemClock } from '../../driver/scheduler/system-clock.js';
import type { BlobStore } from '../../storage/blob-store.js';
import type { StorageQueue } from '../../storage/queues.js';

// Compile-time: the real storage classes are the ports, without adapters.
type Satisfies<T, Port> = T extends Port ? true : false;
const storageQueueIsTaskQueue: Satisfies<StorageQueue, TaskQueue> = true;
const blobStoreIsBlobPort: Satisfies<BlobStore, BlobPort> = true;

const SCHEDULER_DIR = path.resolve(import.meta.dirname, '../../driver/scheduler');
const REAL_TIME =
  /\bDate\.now\b|\bnew Date\(|\bperformance\.now\b|\bset(Timeout|Interval|Immediate)\b|\bclear(Timeout|Interval)\b/;

describe('scheduler ports', () => {
  it('the storage queue and blob store satisfy the TaskQueue and BlobPort ports', () => {
    expect([storageQueueIsTaskQueue, blobStoreIsBlobPort]).toEqual([true, true]);
  });

  it('no scheduler file but system-clock.ts reads the real time or starts a timer', () => {
    const offenders: string[] = [];
    for (const file of readdirSync(SCHEDULER_DIR)) {
      if (!file.endsWith('.ts') || file === 'system-clock.ts') continue;
      const lines = readFileSync(path.join(SCHEDULER_DIR, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (REAL_TIME.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it('the system clock reads wall time and its timers do not keep the process alive', () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    const timer = systemClock.every(60_000, () => undefined);
    const once = systemClock.after(60_000, () => undefined);
    // An unref'd timer is invisible to the event loop's liveness check.
    const active = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    timer.cancel();
    once.cancel();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(active);
  });
});
