/**
 * `stratus clean`: delete what crashed drivers left in a storage account — the events queue and
 * `stratus-data/apps/<appId>/` blobs of every application whose lease expired more than a grace
 * period ago (driver/control/sweeper.ts). Live applications are never touched. One line per
 * application removed on stdout, then a summary.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type SweepReport, sweepDeadApplications } from '../control/sweeper.js';
import { resolveAzureConnection } from '../fabric/azure.js';

interface CleanFlags {
  account?: string;
  connectionString?: string;
  graceMinutes?: number;
  dryRun?: boolean;
}

function minutes(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a number of minutes ≥ 0, got '${value}'`);
  return n;
}

/** The lines `stratus clean` prints for a report. */
export function describeSweep(report: SweepReport, dryRun: boolean): string[] {
  const lines = report.removed.map((a) => {
    const what = [a.eventsQueue ? 'events queue' : undefined, `${a.blobs} blobs`].filter(Boolean).join(' + ');
    return `${dryRun ? 'would remove' : a.complete ? 'removed' : 'partly removed'} ${a.appId}: ${what} (${a.reason})`;
  });
  const verb = dryRun ? 'would remove' : 'removed';
  lines.push(
    `${verb} ${report.removed.length} dead application(s); left ${report.live.length} live or recent one(s)` +
      (report.undated.length > 0
        ? ` and ${report.undated.length} not made by a stratus driver (${report.undated.join(', ')})`
        : ''),
  );
  return lines;
}

/** Add the `clean` subcommand to `program`; `print` receives each line (default stdout). */
export function registerCleanCommand(
  program: Command,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): void {
  // Like doctor, no commander .env(): resolveAzureConnection reads STRATUS_ACCOUNT /
  // STRATUS_CONNECTION itself, so an explicit flag is not fought by the other variable.
  program
    .command('clean')
    .description(
      'delete the events queues and apps/<appId>/ blobs of applications whose driver crashed (lease expired)',
    )
    .option(
      '--account <name>',
      'storage account, signing in with DefaultAzureCredential (env STRATUS_ACCOUNT)',
    )
    .option('--connection-string <string>', 'storage connection string (env STRATUS_CONNECTION)')
    .option(
      '--grace-minutes <n>',
      'only applications whose lease expired longer ago than this (env STRATUS_SWEEP_GRACE_MINUTES, default 60)',
      minutes,
    )
    .option('--dry-run', 'list what would be removed, delete nothing')
    .action(async (flags: CleanFlags) => {
      const { storage } = resolveAzureConnection({
        account: flags.account,
        connectionString: flags.connectionString,
      });
      const report = await sweepDeadApplications(storage, {
        ...(flags.graceMinutes !== undefined ? { graceMs: flags.graceMinutes * 60_000 } : {}),
        dryRun: flags.dryRun === true,
      });
      for (const line of describeSweep(report, flags.dryRun === true)) print(line);
    });
}
