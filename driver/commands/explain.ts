/**
 * `stratus explain <module> --param k=v … [fabric flags of stratus run] [--json]`: print the
 * jobs, stages, partitions, shuffle boundaries, slots and waves a job module will run, without
 * running it — planned for the slots `stratus run` with the same flags would have
 * (driver/observe/explain.ts).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { assertModuleTypeChecks } from '../app/typecheck.js';
import { type FabricFlags, fabricChoice, joinRunningLocal } from '../fabric/fabric-flags.js';
import { explainForFabric, formatExplanation } from '../observe/explain.js';
import { addFabricOptions } from './fabric.js';
import { integerAtLeast } from './options.js';
import { parseParam } from './run.js';
import { writeStdout } from './stdout.js';

interface ExplainFlags extends FabricFlags {
  param: Record<string, unknown>;
  /** False for --no-typecheck. */
  typecheck: boolean;
  splitMb?: number;
  sourcePartitions: Map<number, number>;
  json?: boolean;
}

/** Parse one `--source-partitions <node id>=<n>` into the map of those given before it. */
function parseSourcePartitions(raw: string, previous: Map<number, number>): Map<number, number> {
  const m = /^(\d+)=(\d+)$/.exec(raw.trim());
  if (!m) throw new InvalidArgumentError(`expected <node id>=<partitions>, got '${raw}'`);
  return new Map([...previous, [Number(m[1]), Number(m[2])]]);
}

/** Add the `explain` subcommand to `program`. */
export function registerExplainCommand(program: Command): void {
  const command = program
    .command('explain')
    .description(
      'show the jobs, stages, partitions, slots and waves a job module will run, without running it',
    )
    .argument('<module>', 'job module (.ts or .js)')
    .option('-p, --param <key=value>', 'a job parameter (repeatable; JSON values are parsed)', parseParam, {})
    .option('--no-typecheck', 'skip type-checking the module and what it imports first');
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
      if (flags.typecheck) assertModuleTypeChecks(modulePath);
      // Plan for the fabric `stratus run` would use: a running `stratus local` when there is one.
      const join = await joinRunningLocal(flags, fabricChoice(flags));
      if (join.line)
        process.stderr.write(`stratus explain: ${join.line.replace('joining', 'planning for')}\n`);
      const explanation = await explainForFabric(modulePath, flags.param, join.choice, {
        ...(flags.splitMb ? { splitBytes: flags.splitMb * 1024 * 1024 } : {}),
        sourcePartitions: flags.sourcePartitions,
      });
      await writeStdout(
        flags.json ? `${JSON.stringify(explanation, null, 2)}\n` : `${formatExplanation(explanation)}\n`,
      );
    });
}
