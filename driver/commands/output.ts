/**
 * `stratus cat <output>` and `stratus download <output> <folder>`: read back what a save
 * action committed, from a local folder or `az://container/prefix` (with `--account` or
 * `--connection-string` / the same environment as `stratus run`).
 */
import type { Command } from 'commander';
import { BlobStore } from '../../storage/blob-store.js';
import { downloadOutput, listOutputParts, readOutputPart } from '../data/output-reader.js';
import { resolveAzureConnection } from '../fabric/azure.js';

interface StorageFlags {
  account?: string;
  connectionString?: string;
}

function blobsFor(target: string, flags: StorageFlags): BlobStore | undefined {
  if (!target.startsWith('az://')) return undefined;
  return new BlobStore(
    resolveAzureConnection({ account: flags.account, connectionString: flags.connectionString }).storage,
  );
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
      const blobs = blobsFor(target, flags);
      for (const part of await listOutputParts(target, blobs)) {
        process.stdout.write(await readOutputPart(target, part, blobs));
      }
    });
  program
    .command('download')
    .description('copy a committed output into an empty local folder')
    .argument('<output>', 'the path a save action wrote (az://container/prefix)')
    .argument('<folder>', 'an empty or new local folder')
    .option('--account <name>', 'storage account (env STRATUS_ACCOUNT)')
    .option('--connection-string <string>', 'connection string (env STRATUS_CONNECTION)')
    .action(async (target: string, folder: string, flags: StorageFlags) => {
      const parts = await downloadOutput(target, folder, blobsFor(target, flags));
      process.stderr.write(`stratus download: ${parts} part files and _SUCCESS into ${folder}\n`);
    });
}
