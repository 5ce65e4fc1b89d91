/**
 * Option parsing and process plumbing shared by the CLI's subcommands: integer flags that fail
 * with a clear message, and shutdown on Ctrl-C / SIGTERM that stops what a command started.
 */
import { InvalidArgumentError } from 'commander';
import { redactSecrets } from '../../contract/redaction.js';
import { flushStandardStreams } from './stdout.js';

/** A commander argument parser for an integer ≥ `min`. */
export function integerAtLeast(min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got '${value}'`);
    return n;
  };
}

let signalExitCode: number | undefined;

/**
 * 130 after SIGINT, 143 after SIGTERM, undefined when no shutdown signal arrived: the exit code a
 * command interrupted by a signal ends with, even when its own error reaches the top level first.
 */
export function shutdownExitCode(): number | undefined {
  return signalExitCode;
}

const finishing: Promise<unknown>[] = [];

/**
 * Work the command line finishes after it has reported a command's error and before it exits:
 * stopping a local fabric begun ahead of a run whose module then failed its checks, so the user
 * reads the error at once and no process is left behind.
 */
export function finishBeforeExit(work: Promise<unknown>): void {
  finishing.push(work.catch(() => undefined));
}

/** Settles when everything given to finishBeforeExit has. */
export async function finishedBeforeExit(): Promise<void> {
  await Promise.all(finishing);
}

/**
 * Run `shutdown` once on the first SIGINT or SIGTERM, then exit with 130/143; a second signal
 * exits at once (the watchdogs still take every child process down with this one).
 */
export function onShutdownSignal(shutdown: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (stopping) process.exit(code);
    stopping = true;
    signalExitCode = code;
    // Flush first, as cli.ts does: exiting with writes still queued would cut a piped output.
    const exit = () => flushStandardStreams().finally(() => process.exit(code));
    shutdown(signal).then(exit, (error: Error) => {
      process.stderr.write(`stratus: shutdown failed: ${redactSecrets(error.message)}\n`);
      return exit();
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
