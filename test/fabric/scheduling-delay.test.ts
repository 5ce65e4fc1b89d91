import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SlotEvent, slotSchedulingDelay } from '../../driver/ops/noop.js';
import { quantile } from '../../driver/scheduler/stats.js';

describe('scheduling delay (Spark sense)', () => {
  it('counts only the time a free slot waited: start − max(sent, previous end on the slot)', () => {
    // Slot a: task 0 sent at 0 starts at 10, ends 50; task 1 sent at 0 starts at 55 (waited for the slot).
    // Slot b: task 2 sent at 100 starts at 130 on a slot idle since 0.
    const timeline: SlotEvent[] = [
      { slot: 'e1/0', at: 10, partition: 0, start: true },
      { slot: 'e1/0', at: 50, partition: 0, start: false },
      { slot: 'e1/0', at: 55, partition: 1, start: true },
      { slot: 'e1/0', at: 70, partition: 1, start: false },
      { slot: 'e2/0', at: 130, partition: 2, start: true },
    ];
    const sent = new Map([
      [0, 0],
      [1, 0],
      [2, 100],
    ]);
    const delays = [10, 5, 30];
    expect(slotSchedulingDelay(timeline, sent)).toEqual({
      p50: quantile(delays, 0.5),
      p99: quantile(delays, 0.99),
    });
  });

  it('equals a per-slot reference for any serial timeline, and never exceeds send → start', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.nat(2), sent: fc.nat(1000), wait: fc.nat(200), run: fc.nat(100) }), {
          minLength: 1,
          maxLength: 30,
        }),
        (tasks) => {
          const timeline: SlotEvent[] = [];
          const sent = new Map<number, number>();
          const freeAt = new Map<number, number>();
          const reference: number[] = [];
          const queue: number[] = [];
          tasks.forEach((t, partition) => {
            // Each slot runs its tasks one after another, in the order given.
            const free = freeAt.get(t.slot) ?? Number.NEGATIVE_INFINITY;
            const start = Math.max(t.sent, free) + t.wait;
            const end = start + t.run;
            freeAt.set(t.slot, end);
            sent.set(partition, t.sent);
            timeline.push({ slot: `e/${t.slot}`, at: start, partition, start: true });
            timeline.push({ slot: `e/${t.slot}`, at: end, partition, start: false });
            reference.push(t.wait);
            queue.push(start - t.sent);
          });
          const got = slotSchedulingDelay(timeline, sent);
          expect(got.p50).toBe(quantile(reference, 0.5));
          expect(got.p50).toBeLessThanOrEqual(quantile(queue, 0.5));
        },
      ),
    );
  });
});
