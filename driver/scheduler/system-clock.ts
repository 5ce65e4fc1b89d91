/**
 * The real clock of the scheduler (Spark's SystemClock): wall time from `Date.now` and Node
 * timers. Invariant: its timers are unref'd, so a scheduler's periodic checks never keep the
 * driver process alive. The only file of driver/scheduler that reads the real time.
 */
import type { Clock, TimerHandle } from './ports.js';

/** Wall-clock time and unref'd Node timers; the default clock of the scheduler. */
export const systemClock: Clock = {
  now: () => Date.now(),
  every(intervalMs: number, tick: () => void): TimerHandle {
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
  after(delayMs: number, fire: () => void): TimerHandle {
    const timer = setTimeout(fire, delayMs);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
