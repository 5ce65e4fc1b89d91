/**
 * `stratus explain … --json` run by the built command line in a process of its own, with this
 * process's environment: what a user of the command line would read, parsed.
 */
import { runBuiltCli } from './dist.js';

/** Run `stratus explain <args> --json` and return the explanation it prints; `T` is the part a test reads. */
export async function explainJson<T>(args: string[]): Promise<T> {
  const { code, stdout, stderr } = await runBuiltCli(['explain', ...args, '--json']);
  if (code !== 0) throw new Error(`stratus explain exited with ${code}: ${stderr}`);
  return JSON.parse(stdout) as T;
}
