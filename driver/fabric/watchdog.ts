/**
 * Child processes that cannot outlive their parent. Every long-running process the local fabric
 * starts (Azurite, executor hosts) runs under a tiny watchdog: a `node -e` script that spawns the
 * real process and kills it as soon as its own stdin — a pipe held by the parent — closes. The
 * kernel closes that pipe whenever the parent dies, even by SIGKILL, so nothing is left orphaned.
 * The watchdog reports the target's pid and exit on fd 3; the target's stdout/stderr are the
 * watchdog's own, so the parent reads them directly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { withCompileCache } from '../../contract/compile-cache.js';

/**
 * The watchdog itself, plain CommonJS so it runs from sources and from `dist/` alike.
 * argv: <graceMs> <removeDir or ''> <command> <args…>. SIGTERM/SIGINT sent to the watchdog are
 * forwarded. Once the target has exited, the watchdog removes `removeDir` (if given) before it
 * reports the exit, so the folder goes even when the parent died first (a second Ctrl-C).
 */
const WATCHDOG_SCRIPT = `
const { spawn } = require('node:child_process');
const { rmSync, writeSync } = require('node:fs');
const [graceMs, removeDir, command, ...args] = process.argv.slice(1);
const report = (o) => { try { writeSync(3, JSON.stringify(o) + '\\n'); } catch {} };
const removeFolder = () => { if (removeDir) { try { rmSync(removeDir, { recursive: true, force: true, maxRetries: 3 }); } catch {} } };
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
child.on('spawn', () => report({ pid: child.pid }));
child.on('error', (e) => { removeFolder(); report({ error: String(e && e.message) }); process.exit(127); });
child.on('exit', (code, signal) => { removeFolder(); report({ exit: { code, signal } }); process.exit(code === null ? 1 : code); });
let orphaned = false;
const parentGone = () => {
  if (orphaned) return;
  orphaned = true;
  try { child.kill('SIGTERM'); } catch {}
  setTimeout(() => { try { child.kill('SIGKILL'); } catch {} }, Number(graceMs));
};
process.stdin.on('end', parentGone);
process.stdin.on('close', parentGone);
process.stdin.on('error', parentGone);
process.stdin.resume();
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => { try { child.kill(s); } catch {} });
`;

/** How a watched process ended: its exit code, or the signal that killed it. */
export interface ProcessExit {
  /** The exit code; null when a signal ended the process. */
  code: number | null;
  /** The signal that ended the process; null when it exited by itself. */
  signal: NodeJS.Signals | null;
}

/** Options for `spawnWatched`. */
export interface WatchedSpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How long the watchdog waits after SIGTERM before SIGKILL once the parent is gone (ms). */
  orphanGraceMs?: number;
  /**
   * A folder the watchdog removes once the target has exited, before `exited` resolves: a temp
   * folder the target works in, removed even when this process dies (or exits at once on a
   * second Ctrl-C) before it could remove the folder itself.
   */
  removeOnExit?: string;
}

/** The last `limit` characters of a stream, kept for error messages. */
export class OutputTail {
  private text = '';

  constructor(private readonly limit = 4_000) {}

  /** Append a chunk, dropping the oldest characters beyond the limit. */
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }

  /** The retained tail (at most `limit` characters). */
  toString(): string {
    return this.text.slice(-this.limit);
  }
}

/** A process running under a watchdog; signals go to the target by pid. */
export class WatchedProcess {
  /** The target's pid, once spawned; rejects when it could not be spawned. */
  readonly started: Promise<number>;
  /** Resolves once the target (and so the watchdog) has exited. */
  readonly exited: Promise<ProcessExit>;
  /** The target's stdout and stderr. */
  readonly stdout: Readable;
  readonly stderr: Readable;
  private targetPid: number | undefined;
  private exitInfo: ProcessExit | undefined;

  constructor(private readonly watchdog: ChildProcess) {
    this.stdout = watchdog.stdout!;
    this.stderr = watchdog.stderr!;
    const reports = createInterface({ input: watchdog.stdio[3] as Readable });
    let resolvePid: (pid: number) => void = () => undefined;
    let rejectPid: (error: Error) => void = () => undefined;
    this.started = new Promise<number>((resolve, reject) => {
      resolvePid = resolve;
      rejectPid = reject;
    });
    this.started.catch(() => undefined); // observed by whoever awaits it; never unhandled
    let targetExit: ProcessExit | undefined;
    reports.on('line', (line) => {
      const report = JSON.parse(line) as { pid?: number; error?: string; exit?: ProcessExit };
      if (report.pid !== undefined) {
        this.targetPid = report.pid;
        resolvePid(report.pid);
      }
      if (report.error !== undefined) rejectPid(new Error(`could not start process: ${report.error}`));
      if (report.exit !== undefined) targetExit = report.exit;
    });
    const reportsClosed = new Promise<void>((resolve) => reports.once('close', resolve));
    const watchdogExited = new Promise<ProcessExit>((resolve) => {
      watchdog.once('exit', (code, signal) => resolve({ code, signal }));
      // Node itself could not be spawned (never expected: it is process.execPath).
      watchdog.once('error', () => resolve({ code: 127, signal: null }));
    });
    this.exited = (async () => {
      const own = await watchdogExited;
      // fd 3 is held by the watchdog alone, so it closes right after the watchdog exits; the
      // target's own exit (with its signal) is read from there, the watchdog's is the fallback.
      await reportsClosed;
      this.exitInfo = targetExit ?? own;
      rejectPid(new Error(`process exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})`));
      return this.exitInfo;
    })();
  }

  /** The watchdog's pid (its process group leader too: the watchdog runs detached). */
  get watchdogPid(): number {
    return this.watchdog.pid!;
  }

  /** The target's pid once known. */
  get pid(): number | undefined {
    return this.targetPid;
  }

  /** True once the target and watchdog have exited. */
  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Send `signal` to the target process (or to the watchdog before the target is known). */
  signal(signal: NodeJS.Signals): void {
    if (this.hasExited) return;
    try {
      process.kill(this.targetPid ?? this.watchdogPid, signal);
    } catch (error) {
      // ESRCH: it exited between the check and the signal; anything else is a real problem.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  /**
   * Stop the target: SIGTERM, then SIGKILL (target and watchdog) after `timeoutMs`.
   * Resolves with how it exited.
   */
  async stop(timeoutMs = 10_000): Promise<ProcessExit> {
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    const first = await Promise.race([this.exited, forced]);
    clearTimeout(timer);
    if (first) return first;
    this.kill();
    return this.exited;
  }

  /** SIGKILL the target; the watchdog follows it out. */
  kill(): void {
    this.signal('SIGKILL');
  }
}

/** Spawn `command args` under a watchdog tied to this process's lifetime. */
export function spawnWatched(
  command: string,
  args: readonly string[],
  options: WatchedSpawnOptions = {},
): WatchedProcess {
  const watchdog = spawn(
    process.execPath,
    [
      '-e',
      WATCHDOG_SCRIPT,
      String(options.orphanGraceMs ?? 3_000),
      options.removeOnExit ?? '',
      command,
      ...args,
    ],
    {
      // A Node child (Azurite, an executor host) loads faster from Node's compile cache.
      env:
        command === process.execPath
          ? withCompileCache(options.env ?? process.env)
          : (options.env ?? process.env),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      // Its own process group: a Ctrl-C in the terminal reaches only the parent, which then
      // stops its children in order (executors drain before Azurite goes away).
      detached: true,
    },
  );
  // An EPIPE on this pipe only means the watchdog already exited.
  watchdog.stdin?.on('error', () => undefined);
  return new WatchedProcess(watchdog);
}
