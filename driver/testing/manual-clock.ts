/**
 * A clock for tests that moves only when told to, as Spark's ManualClock: `advance(ms)` fires
 * every timer that falls due on the way, synchronously, in order of due time (ties in the
 * order they were scheduled), with `now()` reading each timer's due time while it runs. So a
 * test of the scheduler's periodic checks (lost executors, speculation) runs in microseconds
 * and the same way every time. Only tests and benchmarks may import driver/testing.
 */
import type { Clock, TimerHandle } from '../scheduler/ports.js';

interface ManualTimer {
  due: number;
  /** Order of scheduling: breaks ties between timers due at the same instant. */
  seq: number;
  /** Undefined for a one-shot timer. */
  intervalMs: number | undefined;
  fire: () => void;
}

/** A Clock whose time is set by the test; timers fire inside `advance`. */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Set<ManualTimer>();

  /** Start at `startMs` (ms since the epoch; default an arbitrary fixed instant). */
  constructor(startMs = 1_700_000_000_000) {
    this.time = startMs;
  }

  /** The test's current time (ms since the epoch). */
  now(): number {
    return this.time;
  }

  /** Call `tick` every `intervalMs` (> 0) of manual time until cancelled. */
  every(intervalMs: number, tick: () => void): TimerHandle {
    if (!(intervalMs > 0)) throw new Error(`ManualClock.every needs a positive interval, got ${intervalMs}`);
    return this.schedule(intervalMs, intervalMs, tick);
  }

  /** Call `fire` once when manual time reaches now + `delayMs`, unless cancelled first. */
  after(delayMs: number, fire: () => void): TimerHandle {
    return this.schedule(Math.max(0, delayMs), undefined, fire);
  }

  /**
   * When the earliest pending timer falls due (ms since the epoch), or undefined when none is
   * pending. A test that must let promise chains run between two timers, as real timers do
   * (each is its own macrotask), advances to this instant, settles, and repeats.
   */
  get nextTimerAt(): number | undefined {
    return this.nextDue(Number.POSITIVE_INFINITY)?.due;
  }

  /** Timers scheduled and not cancelled (one-shots that fired are gone). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /**
   * Move time forward by `ms`, firing each timer due on the way at its due time, in order; a
   * timer scheduled by a firing one fires too when it falls due before the end. A timer that
   * throws stops the advance and the error propagates (time stays at that timer's due time).
   */
  advance(ms: number): void {
    if (ms < 0) throw new Error(`ManualClock cannot go back in time (advance ${ms})`);
    const target = this.time + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.time = next.due;
      if (next.intervalMs === undefined) this.timers.delete(next);
      else {
        next.due += next.intervalMs;
        next.seq = this.seq++;
      }
      next.fire();
    }
    this.time = target;
  }

  private schedule(delayMs: number, intervalMs: number | undefined, fire: () => void): TimerHandle {
    const timer: ManualTimer = { due: this.time + delayMs, seq: this.seq++, intervalMs, fire };
    this.timers.add(timer);
    return { cancel: () => this.timers.delete(timer) };
  }

  private nextDue(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) {
      if (t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
