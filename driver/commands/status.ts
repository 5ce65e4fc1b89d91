/**
 * `stratus status`: queue depths (tasks, poison), the fabric's advertised size and the executors
 * seen recently, gathered by driver/ops/status.ts; `--json` prints the gathered status as is.
 */
import { type Command, Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../contract/names.js';
import { connectStorageAccount } from '../fabric/azure.js';
import { collectStatus, formatStatus } from '../ops/status.js';
import { integerAtLeast } from './options.js';
import { writeStdout } from './stdout.js';
import { addStorageOptions, type StorageFlags } from './ui.js';

interface StatusFlags extends StorageFlags {
  queue: string;
  minutes: number;
  json?: boolean;
}

/** Add the `status` subcommand to `program`. */
export function registerStatusCommand(program: Command): void {
  const command = program
    .command('status')
    .description('queue depths (tasks, poison) and the executors seen recently')
    // As run, explain and doctor: the deployment's queue when the environment names one.
    .addOption(
      new Option('-q, --queue <name>', 'task queue').env('STRATUS_TASK_QUEUE').default(DEFAULT_TASK_QUEUE),
    )
    .option('--minutes <n>', 'how far back to look for executors', integerAtLeast(1), 15)
    .option('--json', 'print the status as JSON');
  addStorageOptions(command).action(async (flags: StatusFlags) => {
    const status = await collectStatus(connectStorageAccount(flags, 'status'), {
      taskQueue: flags.queue,
      windowMs: flags.minutes * 60_000,
    });
    await writeStdout(flags.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatStatus(status)}\n`);
  });
}
