/**
 * Marker files for the tests' job modules: code that runs inside tasks (bundled with each job
 * module that imports it, so it runs on executors' task threads) and lets a test single out one
 * attempt, or hold a task until a file appears.
 */
import { closeSync, openSync } from 'node:fs';

/** True for the one caller that creates `marker` (an exclusive create): the first attempt to arrive. */
export function firstToArrive(marker: string): boolean {
  try {
    closeSync(openSync(marker, 'wx'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Block this task thread until `ready()` holds, checking every `pollMs` — a poll interval, not a
 * synchronisation; the task keeps its slot and spares the CPU. False when `timeoutMs` passed first.
 */
export function blockUntil(ready: () => boolean, timeoutMs: number, pollMs: number): boolean {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) return false;
    Atomics.wait(pause, 0, 0, pollMs);
  }
  return true;
}
