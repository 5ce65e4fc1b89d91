/**
 * `stratus local`: start the local fabric — Azurite plus N executors with S slots each — print
 * how to reach it, and keep it running until Ctrl-C or SIGTERM, which stop everything.
 */
import type { Command } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../contract/names.js';
import { startLocalFabric } from '../fabric/local-fabric.js';
import { removeLocalFabricRecord, writeLocalFabricRecord } from '../fabric/local-registry.js';
import { integerAtLeast, onShutdownSignal } from './options.js';

interface LocalFlags {
  executors: number;
  slots: number;
  queue: string;
}

/** Add the `local` subcommand to `program`. */
export function registerLocalCommand(program: Command): void {
  program
    .command('local')
    .description('start Azurite and N local executors with S slots each; Ctrl-C stops them')
    .option('-e, --executors <n>', 'executor host processes', integerAtLeast(0), 2)
    .option('-s, --slots <n>', 'slots per executor (concurrent tasks)', integerAtLeast(1), 4)
    .option('-q, --queue <name>', 'task queue the executors listen on', DEFAULT_TASK_QUEUE)
    .action(async (flags: LocalFlags) => {
      const log = (line: string) => process.stdout.write(`${line}\n`);
      const fabric = await startLocalFabric({
        executors: flags.executors,
        slots: flags.slots,
        queue: flags.queue,
        log,
      });
      onShutdownSignal(async () => {
        // First: a `stratus run` starting now must not join a fabric that is going away.
        removeLocalFabricRecord(fabric.queue, process.pid);
        log('stopping executors (in-flight tasks go back to the queue) and Azurite…');
        await fabric.stop();
      });
      // Azurite's account key is the public, documented development key, so printing it is fine.
      log(`storage:   ${fabric.connectionString}`);
      log(`queue:     ${fabric.queue}`);
      for (const executor of fabric.executors)
        log(`executor:  ${executor.executorId}  pid ${executor.pid}  ${executor.slots} slots  ready`);
      log(`slots:     ${fabric.totalSlots} (${fabric.executors.length} executors × ${fabric.slots})`);
      log(`export STRATUS_CONNECTION='${fabric.connectionString}'`);
      // Drivers (and stratus explain) that join this fabric read its size for their default parallelism.
      await fabric.publish();
      // `stratus run` (--local, the default) on this queue joins this fabric instead of starting one.
      const record = writeLocalFabricRecord({
        v: 1,
        pid: process.pid,
        connectionString: fabric.connectionString,
        queue: fabric.queue,
        executors: fabric.executors.length,
        slotsPerExecutor: fabric.slots,
        totalSlots: fabric.totalSlots,
        startedAt: Date.now(),
      });
      log(`recorded:  ${record} (\`stratus run\` on queue ${fabric.queue} joins this fabric)`);
      log('running; press Ctrl-C to stop');
      fabric.on('executor-exited', (executor, exit) =>
        log(`executor:  ${executor.executorId}  pid ${executor.pid}  exited (${exit.signal ?? exit.code})`),
      );
      // Keep running: the executor and Azurite processes hold the event loop open.
      await new Promise<never>(() => undefined);
    });
}
