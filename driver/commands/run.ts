/**
 * `stratus run <module> --param k=v …`: run a job module (default export `defineJob(...)`)
 * or a driver script (default export `defineDriverScript(...)`) on a local fabric it starts
 * (the default), on a running `stratus local`, or on any account by connection string.
 * Results go to stdout (`--json`: only the results, as tagged JSON); progress and logs to stderr.
 * Loading and running the module is driver/app/submit.ts; this file maps flags and prints.
 */
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { fromTaggedJson, type JsonValue } from '../../engine/records/tagged-json.js';
import { Driver, type DriverOptions } from '../app/driver.js';
import type { ShuffleCompression } from '../app/options.js';
import { preflightJobModule } from '../app/preflight.js';
import { loadSubmittedModule, runSubmittedModule, type SubmittedModule } from '../app/submit.js';
import { assertModuleTypeChecks } from '../app/typecheck.js';
import { connectFabric, type FabricStartedAhead, planSlots } from '../fabric/connection.js';
import { type FabricFlags, fabricChoice, joinRunningLocal } from '../fabric/fabric-flags.js';
import { defaultEventLogDir } from '../observe/event-log.js';
import { ConsoleProgress } from '../observe/progress.js';
import { formatResults, resultJson } from '../observe/result-json.js';
import { RunSummaryBuilder } from '../observe/run-summary.js';
import { addFabricOptions } from './fabric.js';
import { finishBeforeExit, integerAtLeast, onShutdownSignal } from './options.js';
import { writeStdout } from './stdout.js';

interface RunFlags extends FabricFlags {
  param: Record<string, unknown>;
  /** False for --no-typecheck. */
  typecheck: boolean;
  json?: boolean;
  overwrite?: boolean;
  memoryMb?: number;
  shuffleCompression?: ShuffleCompression;
  splitMb?: number;
  eventLog?: string;
  /** A folder, or false for --no-event-log-dir. */
  eventLogDir?: string | false;
}

/**
 * Parse one `--param key=value`: the value is tagged JSON when it parses as JSON (so
 * `since={"$date":"2024-01-01T00:00:00Z"}` is a Date, as `--json` prints one), else the raw string.
 */
export function parseParam(raw: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got '${raw}'`);
  const key = raw.slice(0, eq);
  const text = raw.slice(eq + 1);
  let value: unknown = text;
  try {
    value = fromTaggedJson(JSON.parse(text) as JsonValue);
  } catch {
    // not JSON: a plain string such as a path or a glob
  }
  return { ...previous, [key]: value };
}

/** Add the `run` subcommand to `program`. */
export function registerRunCommand(program: Command): void {
  const command = program
    .command('run')
    .description('run a job module or driver script (local fabric by default)')
    .argument('<module>', 'job module or driver script (.ts or .js)')
    .option('-p, --param <key=value>', 'a job parameter (repeatable; JSON values are parsed)', parseParam, {})
    .option('--json', 'print only the results, as JSON, on stdout')
    .option('--no-typecheck', 'skip type-checking the module and what it imports before the run');
  addFabricOptions(command, 'run on')
    .option('--overwrite', 'replace existing output of save actions')
    .option('--event-log <file>', 'keep the local copy of the event log (JSON lines) in this file')
    .option(
      '--event-log-dir <dir>',
      'keep the local copy of the event log in <dir>/<appId>.jsonl (default for the local fabric: STRATUS_EVENT_LOG_DIR, else .stratus/event-logs)',
    )
    .option('--no-event-log-dir', 'keep no local copy of the event log (the storage account still has it)')
    .option('--memory-mb <n>', 'per-task memory budget before spilling (MiB, default 256)', integerAtLeast(1))
    .addOption(
      new Option(
        '--shuffle-compression <codec>',
        'compress shuffle blocks, spills and cached partitions (default: brotli on Azure, none on Azurite)',
      ).choices(['brotli', 'none']),
    )
    .option(
      '--split-mb <n>',
      'target size of input partitions cut from local files (MiB, default 32)',
      integerAtLeast(1),
    )
    .action(async (modulePath: string, flags: RunFlags) => {
      // A running `stratus local` for the task queue is joined rather than a fabric started.
      const join = await joinRunningLocal(flags, fabricChoice(flags));
      if (join.line) process.stderr.write(`stratus run: ${join.line}\n`);
      const choice = join.choice;
      // An embedded fabric starts now, while the module is type-checked, bundled and checked; a
      // module that fails those has its error reported at once, and the fabric begun is given up
      // (or stopped) before the command exits.
      const giveUp = new AbortController();
      const ahead = choice.local !== undefined ? connectFabric(choice, giveUp.signal) : undefined;
      ahead?.catch(() => undefined);
      let module: SubmittedModule;
      try {
        if (flags.typecheck) assertModuleTypeChecks(modulePath);
        module = await loadSubmittedModule(modulePath);
        // A bad param or a missing input file fails before any job is submitted.
        if (module.kind === 'job' && choice.local !== undefined)
          await preflightJobModule(module.file, flags.param, (await planSlots(choice)).totalSlots);
      } catch (error) {
        // Reported at once; the command line exits once the fabric is stopped.
        giveUp.abort();
        if (ahead) finishBeforeExit(ahead.then(({ fabric }) => fabric?.stop()));
        throw error;
      }
      const options: DriverOptions & FabricStartedAhead = {
        name: path.basename(module.file),
        ...choice,
        ...(ahead ? { fabricStartedAhead: ahead } : {}),
      };
      if (flags.memoryMb) options.memoryBudgetBytes = flags.memoryMb * 1024 * 1024;
      if (flags.shuffleCompression) options.shuffleCompression = flags.shuffleCompression;
      if (flags.splitMb) options.splitBytes = flags.splitMb * 1024 * 1024;
      const started = performance.now();
      const summary = new RunSummaryBuilder();
      options.listeners = [new ConsoleProgress(), summary];
      if (flags.eventLog) options.eventLog = { localFile: path.resolve(flags.eventLog) };
      else if (flags.eventLogDir !== undefined) options.eventLog = { localDir: flags.eventLogDir };
      const driver = await Driver.connect(options);
      if (driver.eventLogFile) {
        const shown = path.relative(process.cwd(), driver.eventLogFile) || driver.eventLogFile;
        const ui = flags.eventLog
          ? `stratus ui --log-file ${shown}`
          : path.dirname(driver.eventLogFile) === defaultEventLogDir()
            ? 'stratus ui'
            : `stratus ui --log-dir ${path.dirname(shown)}`;
        process.stderr.write(`stratus run: event log ${shown} (\`${ui}\` shows it, live while it runs)\n`);
      }
      onShutdownSignal(async (signal) => {
        process.stderr.write(`stratus run: ${signal}, cancelling…\n`);
        // Cancel first, so the run fails with JOB_CANCELLED naming the signal; close then waits for it.
        await driver.cancel(`interrupted (${signal})`);
        await driver.close('cancelled');
      });
      const outcome = await runSubmittedModule(driver, module, flags.param, {
        overwrite: flags.overwrite === true,
      });
      if (!outcome.ok) {
        if (!flags.json) process.stderr.write(`${summary.text()}\n`);
        throw outcome.error;
      }
      process.stderr.write(`${summary.text()}\n`);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (flags.json) {
        await writeStdout(`${resultJson(outcome.results)}\n`);
      } else {
        await writeStdout(formatResults(outcome.results));
        process.stderr.write(`stratus run: ${path.basename(module.file)} finished in ${seconds} s\n`);
      }
    });
}
