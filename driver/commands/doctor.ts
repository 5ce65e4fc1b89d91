/**
 * `stratus doctor`: check that a deployment can run jobs before a user submits one (the checks
 * are driver/ops/doctor.ts). One line per check on stdout; a failed check makes the command exit
 * non-zero.
 */
import type { Command } from 'commander';
import { DOCTOR_ENV, DoctorFailedError, runDoctor } from '../ops/doctor.js';
import { integerAtLeast } from './options.js';

interface DoctorFlags {
  account?: string;
  connectionString?: string;
  queue?: string;
  functionAppSettings?: string;
  slots?: number;
  maxInstances?: number;
  totalSlots?: number;
}

/** Add the `doctor` subcommand to `program`; `print` receives each result line (default stdout). */
export function registerDoctorCommand(
  program: Command,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): void {
  // No commander .env(): resolveAzureConnection and runDoctor read the environment themselves, so
  // an explicit --connection-string is not fought by a STRATUS_ACCOUNT that azd put in the shell.
  program
    .command('doctor')
    .description('check a deployment: queues, containers, data access of your identity, slot settings')
    .option(
      '--account <name>',
      'storage account, signing in with DefaultAzureCredential (env STRATUS_ACCOUNT)',
    )
    .option(
      '--connection-string <string>',
      'storage connection string instead of an account (env STRATUS_CONNECTION)',
    )
    .option('--queue <name>', 'task queue (env STRATUS_TASK_QUEUE, default stratus-tasks)')
    .option(
      '--function-app-settings <file.json>',
      `the function app's settings, to check its slots (env ${DOCTOR_ENV.functionAppSettings})`,
    )
    .option('--slots <n>', `slots per executor deployed (env ${DOCTOR_ENV.slots})`, integerAtLeast(1))
    .option(
      '--max-instances <n>',
      `maximum instances deployed (env ${DOCTOR_ENV.maxInstances})`,
      integerAtLeast(1),
    )
    .option(
      '--total-slots <n>',
      "the driver's default parallelism (env STRATUS_TOTAL_SLOTS)",
      integerAtLeast(1),
    )
    .action(async (flags: DoctorFlags) => {
      const checks = await runDoctor(
        {
          account: flags.account,
          connectionString: flags.connectionString,
          queue: flags.queue,
          functionAppSettingsFile: flags.functionAppSettings,
          slots: flags.slots,
          maxInstances: flags.maxInstances,
          totalSlots: flags.totalSlots,
        },
        print,
      );
      const failed = checks.filter((c) => c.status === 'fail').length;
      if (failed > 0) throw new DoctorFailedError(failed, checks.length);
      print(`all ${checks.filter((c) => c.status === 'ok').length} checks passed`);
    });
}
