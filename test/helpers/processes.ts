/**
 * Process checks for fabric tests: whether a pid is still a live process, a process's
 * descendants, bounded waits for a process to be gone, and cleanup by pid of whatever a test
 * started.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** True when `pid` names a running process (a zombie awaiting its reaper counts as gone). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; the state letter follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pids of every live descendant of `pid` (children, their children…), from /proc. */
export function descendantPids(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we listed
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so parse after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out.filter(isProcessAlive);
}

/** Poll (every 25 ms) until `check` returns a value other than undefined/false; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Wait until every pid is gone; throws naming the survivors after `timeoutMs`. */
export async function waitUntilGone(pids: readonly number[], timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `processes ${pids.join(', ')} to exit`,
    () => pids.every((pid) => !isProcessAlive(pid)),
    timeoutMs,
  ).catch((error: Error) => {
    const alive = pids.filter(isProcessAlive);
    throw new Error(`${error.message}; still alive: ${alive.join(', ')}`);
  });
}

/** SIGKILL each pid that is still alive (test cleanup for processes the test itself started). */
export function killIfAlive(pids: readonly (number | undefined)[]): void {
  for (const pid of pids) {
    if (pid === undefined || !isProcessAlive(pid)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone between the check and the signal: nothing left to clean up.
    }
  }
}
