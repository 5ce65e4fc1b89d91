/**
 * The pick-up floor the Functions queue listener's back-off sets, computed with the local host's
 * own PollingBackoff (the extension's randomized exponential back-off, executor-function/
 * local-host/backoff.ts): after the listener last found a message, it sleeps 100 ms, then
 * 100 ms × 2^(n-1) more (±20 %) after each empty poll, capped at maxPollingInterval. A message
 * sent about `idleMs` after that (uniformly 0.5–1.5 × idleMs, so sends do not line up with polls)
 * waits for the next poll: this is its wait, over the jitter and the send times.
 * Receive round trips are left out (they add one storage round trip per poll).
 */
import { PollingBackoff } from '../../executor-function/local-host/backoff.js';

/** Mean and 95th percentile of the wait (ms) for a message sent about `idleMs` after the last one was found. */
export function pickupWait(
  idleMs: number,
  maxPollingIntervalMs: number,
  trials = 4000,
): { meanMs: number; p95Ms: number } {
  const waits: number[] = [];
  for (let t = 0; t < trials; t++) {
    const backoff = new PollingBackoff(Math.min(100, maxPollingIntervalMs), maxPollingIntervalMs);
    const sentAt = idleMs * (0.5 + Math.random());
    let at = backoff.next(true);
    while (at < sentAt) at += backoff.next(false);
    waits.push(at - sentAt);
  }
  waits.sort((a, b) => a - b);
  return {
    meanMs: waits.reduce((a, b) => a + b, 0) / waits.length,
    p95Ms: waits[Math.floor(0.95 * (waits.length - 1))]!,
  };
}
