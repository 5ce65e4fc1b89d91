/**
 * `stratus explain <module> --param k=v … [--slots N] [--json]`: print the jobs, stages,
 * partitions, shuffle boundaries, slots and waves a job module will run, without running it.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { BlobStore } from '../storage/blob-store.js';
import { resolveAzureConnection } from './azure-connection.js';
import { integerAtLeast } from './cli-options.js';
import { parseParam } from './cli-run.js';
import { explainModule, formatExplanation } from './explain.js';

interface ExplainFlags {
  param: Record<string, unknown>;
  slots?: number;
  splitMb?: number;
  sourcePartitions: Map<number, number>;
  json?: boolean;
  connectionString?: string;
  account?: string;
}

/** Total slots explain plans for when `--slots` is not given: what `stratus run` would start. */
export function defaultExplainSlots(env: NodeJS.ProcessEnv = process.env): number {
  const int = (name: string) => {
    const n = Number(env[name]);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  return int('STRATUS_TOTAL_SLOTS') ?? (int('STRATUS_EXECUTORS') ?? 2) * (int('STRATUS_SLOTS') ?? 2);
}

function parseSourcePartitions(raw: string, previous: Map<number, number>): Map<number, number> {
  const m = /^(\d+)=(\d+)$/.exec(raw.trim());
  if (!m) throw new InvalidArgumentError(`expected <node id>=<partitions>, got '${raw}'`);
  return new Map([...previous, [Number(m[1]), Number(m[2])]]);
}

/** Add the `explain` subcommand to `program`. */
export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description(
      'show the jobs, stages, partitions, slots and waves a job module will run, without running it',
    )
    .argument('<module>', 'job module (.ts or .js)')
    .option('-p, --param <key=value>', 'a job parameter (repeatable; JSON values are parsed)', parseParam, {})
    .option(
      '-s, --slots <n>',
      'total slots to plan for (default: STRATUS_TOTAL_SLOTS, else the local fabric of stratus run: 2 × 2)',
      integerAtLeast(1),
    )
    .option(
      '--split-mb <n>',
      'target size of input partitions cut from local files (MiB, default 32)',
      integerAtLeast(1),
    )
    .option(
      '--source-partitions <node=n>',
      'assume n partitions for the file source at this node (repeatable; for blob inputs)',
      parseSourcePartitions,
      new Map<number, number>(),
    )
    .option('--connection-string <string>', 'list az:// inputs in this account (env STRATUS_CONNECTION)')
    .option('--account <name>', 'list az:// inputs in this storage account, signing in with your identity')
    .option('--json', 'print the explanation as JSON')
    .action(async (modulePath: string, flags: ExplainFlags) => {
      const wantsStorage =
        flags.connectionString ??
        flags.account ??
        process.env.STRATUS_CONNECTION ??
        process.env.STRATUS_ACCOUNT;
      const blobs = wantsStorage
        ? new BlobStore(
            resolveAzureConnection({ account: flags.account, connectionString: flags.connectionString })
              .storage,
          )
        : undefined;
      const explanation = await explainModule(modulePath, flags.param, {
        ...(blobs ? { blobs } : {}),
        slots: flags.slots ?? defaultExplainSlots(),
        ...(flags.splitMb ? { splitBytes: flags.splitMb * 1024 * 1024 } : {}),
        sourcePartitions: flags.sourcePartitions,
      });
      process.stdout.write(
        flags.json ? `${JSON.stringify(explanation, null, 2)}\n` : `${formatExplanation(explanation)}\n`,
      );
    });
}
