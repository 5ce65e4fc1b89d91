/**
 * `stratus noop`: a no-op run over a local fabric (or a given account's executors) that proves
 * the driver → queue → executor → events path and prints throughput and scheduling delay.
 */
import { type Command, Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../contract/names.js';
import { formatNoopSummary, runNoop } from '../ops/noop.js';
import { integerAtLeast } from './options.js';
import { writeStdout } from './stdout.js';

interface NoopFlags {
  tasks: number;
  executors: number;
  slots: number;
  sleepMs: number;
  connectionString?: string;
  /** The old name of --connection-string, still accepted. */
  connection?: string;
  queue: string;
  timeoutMs: number;
}

/** Add the `noop` subcommand to `program`. */
export function registerNoopCommand(program: Command): void {
  program
    .command('noop')
    .description('run N no-op tasks on a local fabric and report tasks/s and scheduling delay')
    .option('-t, --tasks <n>', 'noop tasks (one partition each)', integerAtLeast(0), 200)
    .option('-e, --executors <n>', 'executors of the local fabric', integerAtLeast(1), 2)
    .option('-s, --slots <n>', 'slots per executor', integerAtLeast(1), 4)
    .option('--sleep-ms <ms>', 'how long each task holds its slot', integerAtLeast(0), 0)
    .option(
      '--connection-string <string>',
      'use the executors of this storage account instead of a local fabric (env STRATUS_CONNECTION)',
    )
    // The flag's name before every other command said --connection-string: kept, out of the help.
    .addOption(new Option('--connection <string>').hideHelp())
    .option('-q, --queue <name>', 'task queue', DEFAULT_TASK_QUEUE)
    .option('--timeout-ms <ms>', 'fail when not done within this time', integerAtLeast(1), 120_000)
    .action(async (flags: NoopFlags) => {
      const connectionString = flags.connectionString ?? flags.connection ?? process.env.STRATUS_CONNECTION;
      const where = connectionString
        ? 'the given account'
        : `a local fabric of ${flags.executors} executors × ${flags.slots} slots`;
      process.stdout.write(`stratus noop: ${flags.tasks} tasks on ${where}\n`);
      // Ctrl-C / SIGTERM abort the run; runNoop then stops the fabric it started before we exit.
      const abort = new AbortController();
      for (const signal of ['SIGINT', 'SIGTERM'] as const)
        process.once(signal, () => {
          process.stderr.write(`stratus noop: ${signal}, stopping…\n`);
          abort.abort();
        });
      const summary = await runNoop({
        signal: abort.signal,
        tasks: flags.tasks,
        executors: flags.executors,
        slots: flags.slots,
        sleepMs: flags.sleepMs,
        queue: flags.queue,
        timeoutMs: flags.timeoutMs,
        ...(connectionString ? { connectionString } : {}),
      });
      await writeStdout(`${formatNoopSummary(summary)}\n`);
    });
}
