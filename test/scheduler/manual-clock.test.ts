/** The ManualClock the scheduler tests run on: timers fire only inside `advance`, in order. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../driver/testing/manual-clock.js';

describe('ManualClock', () => {
  it('fires due timers synchronously inside advance, in due order, reading each due time', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.after(300, () => fired.push(`b@${clock.now()}`));
    clock.every(200, () => fired.push(`tick@${clock.now()}`));
    clock.after(100, () => fired.push(`a@${clock.now()}`));
    clock.advance(450);
    expect(fired).toEqual(['a@1100', 'tick@1200', 'b@1300', 'tick@1400']);
    expect(clock.now()).toBe(1450);
  });

  it('fires timers due at the same instant in the order they were scheduled', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    for (const n of [1, 2, 3]) clock.after(50, () => fired.push(n));
    clock.advance(50);
    expect(fired).toEqual([1, 2, 3]);
  });

  it('fires nothing before advance, and nothing once cancelled', () => {
    const clock = new ManualClock(0);
    let ticks = 0;
    const timer = clock.every(10, () => ticks++);
    expect(ticks).toBe(0);
    clock.advance(35);
    expect(ticks).toBe(3);
    timer.cancel();
    timer.cancel();
    clock.advance(100);
    expect(ticks).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires a timer scheduled by a firing one when it falls due within the same advance', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.after(10, () => clock.after(10, () => fired.push(clock.now())));
    clock.advance(25);
    expect(fired).toEqual([20]);
    expect(clock.nextTimerAt).toBeUndefined();
  });

  it('tells when the next timer falls due', () => {
    const clock = new ManualClock(0);
    clock.every(100, () => undefined);
    clock.after(30, () => undefined);
    expect(clock.nextTimerAt).toBe(30);
    clock.advance(30);
    expect(clock.nextTimerAt).toBe(100);
  });

  it('refuses to go back in time or to repeat with no interval', () => {
    const clock = new ManualClock(0);
    expect(() => clock.advance(-1)).toThrow('cannot go back in time');
    expect(() => clock.every(0, () => undefined)).toThrow('positive interval');
  });
});
