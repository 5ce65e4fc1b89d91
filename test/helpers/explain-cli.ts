/**
 * `stratus explain … --json` run in-process, as the CLI registers the command, with its
 * standard output captured: what a user of the command line would read, parsed.
 */
import { Command } from 'commander';
import { registerExplainCommand } from '../../driver/commands/explain.js';

/** Run `stratus explain <args> --json` and return the explanation it prints; `T` is the part a test reads. */
export async function explainJson<T>(args: string[]): Promise<T> {
  const program = new Command().exitOverride();
  registerExplainCommand(program);
  const writes: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => writes.push(chunk) > 0) as typeof process.stdout.write;
  try {
    await program.parseAsync(['explain', ...args, '--json'], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return JSON.parse(writes.join('')) as T;
}
