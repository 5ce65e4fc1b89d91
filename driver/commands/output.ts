/**
 * `stratus cat <output>` and `stratus download <output> <folder>`: read back what a save
 * action committed, from a local folder or `az://container/prefix` (with `--account` or
 * `--connection-string` / the same environment as `stratus run`), through driver/data/output-reader.ts.
 */
import type { Command } from 'commander';
import { downloadOutput, outputBlobStore, readOutput } from '../data/output-reader.js';
import { writeStdout } from './stdout.js';

interface StorageFlags {
  account?: string;
  connectionString?: string;
}

/** Add `cat` and `download` to `program`. */
export function registerOutputCommands(program: Command): void {
  program
    .command('cat')
    .description(
      "print a committed output's part files in partition order (local folder or az://container/prefix)",
    )
    .argument('<output>', 'the path a save action wrote')
    .option('--account <name>', 'storage account for az:// outputs (env STRATUS_ACCOUNT)')
    .option('--connection-string <string>', 'connection string for az:// outputs (env STRATUS_CONNECTION)')
    .action(async (target: string, flags: StorageFlags) => {
      // One part file at a time, each awaited: a slow reader slows the reading, nothing piles up.
      for await (const bytes of readOutput(target, outputBlobStore(target, flags))) await writeStdout(bytes);
    });
  program
    .command('download')
    .description('copy a committed output into an empty local folder')
    .argument('<output>', 'the path a save action wrote (az://container/prefix)')
    .argument('<folder>', 'an empty or new local folder')
    .option('--account <name>', 'storage account (env STRATUS_ACCOUNT)')
    .option('--connection-string <string>', 'connection string (env STRATUS_CONNECTION)')
    .action(async (target: string, folder: string, flags: StorageFlags) => {
      const parts = await downloadOutput(target, folder, outputBlobStore(target, flags));
      process.stderr.write(`stratus download: ${parts} part files and _SUCCESS into ${folder}\n`);
    });
}
