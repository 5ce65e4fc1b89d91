/**
 * `stratus explain <module> --param k=v … [fabric flags of stratus run] [--json]`: print the
 * jobs, stages, partitions, shuffle boundaries, slots and waves a job module will run, without
 * running it — planned for the slots `stratus run` with the same flags would have.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { BlobStore } from '../../storage/blob-store.js';
import { type PlannedSlots, planSlots } from '../fabric/connection.js';
import { explainModule, formatExplanation } from '../observe/explain.js';
import { addFabricOptions, type FabricFlags, fabricChoice } from './fabric.js';
import { integerAtLeast } from './options.js';
import { parseParam } from './run.js';

interface ExplainFlags extends FabricFlags {
  param: Record<string, unknown>;
  splitMb?: number;
  sourcePartitions: Map<number, number>;
  json?: boolean;
}

function parseSourcePartitions(raw: string, previous: Map<number, number>): Map<number, number> {
  const m = /^(\d+)=(\d+)$/.exec(raw.trim());
  if (!m) throw new InvalidArgumentError(`expected <node id>=<partitions>, got '${raw}'`);
  return new Map([...previous, [Number(m[1]), Number(m[2])]]);
}

/**
 * The slots `stratus run` with the same flags would plan for, found the same way
 * (`planSlots`): the embedded fabric's executors × slots, a running fabric's published slots,
 * a deployment's configured slots × instances, or `--total-slots`.
 */
export async function explainSlots(flags: FabricFlags): Promise<PlannedSlots> {
  return planSlots(fabricChoice(flags));
}

/** How explain names where its slot count comes from. */
export function describeSlots(planned: PlannedSlots): string {
  switch (planned.from) {
    case 'embedded':
      return `the local fabric stratus run starts: ${planned.executors} executors × ${planned.slotsPerExecutor} slots`;
    case 'configured':
      return planned.mode === 'azure'
        ? 'the deployment (--total-slots, STRATUS_TOTAL_SLOTS or slots × instances)'
        : '--total-slots / STRATUS_TOTAL_SLOTS';
    case 'published':
      return 'published by the running fabric';
    case 'default':
      return 'nothing published by the fabric: the default';
  }
}

/** Add the `explain` subcommand to `program`. */
export function registerExplainCommand(program: Command): void {
  const command = program
    .command('explain')
    .description(
      'show the jobs, stages, partitions, slots and waves a job module will run, without running it',
    )
    .argument('<module>', 'job module (.ts or .js)')
    .option(
      '-p, --param <key=value>',
      'a job parameter (repeatable; JSON values are parsed)',
      parseParam,
      {},
    );
  addFabricOptions(command, 'plan for')
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
    .option('--json', 'print the explanation as JSON')
    .action(async (modulePath: string, flags: ExplainFlags) => {
      const planned = await explainSlots(flags);
      // A remote fabric's account is also where az:// inputs are listed, as the driver would.
      const blobs = planned.connection ? new BlobStore(planned.connection.storage) : undefined;
      const explanation = await explainModule(modulePath, flags.param, {
        ...(blobs ? { blobs } : {}),
        slots: planned.totalSlots,
        slotsFrom: describeSlots(planned),
        ...(flags.splitMb ? { splitBytes: flags.splitMb * 1024 * 1024 } : {}),
        sourcePartitions: flags.sourcePartitions,
      });
      process.stdout.write(
        flags.json ? `${JSON.stringify(explanation, null, 2)}\n` : `${formatExplanation(explanation)}\n`,
      );
    });
}
