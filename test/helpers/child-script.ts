/**
 * A separate Node process running a small ES module script against the built package, for tests
 * that must kill "the user's process" (SIGKILL) and check what it leaves behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { builtFile } from './dist.js';

/** A running script and the JSON object it printed as its first stdout line. */
export interface ChildScript<T> {
  child: ChildProcess;
  firstLine: T;
}

/**
 * Run `body` as an ES module in a new Node process, with `imports` (name → file under dist/)
 * bound as module namespaces, and `options.env` as its environment; resolves with the first stdout line parsed as JSON.
 * Throws when the process exits first or prints nothing within `timeoutMs`.
 */
export async function startChildScript<T>(
  imports: Record<string, string>,
  body: string,
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildScript<T>> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const header = Object.entries(imports)
    .map(
      ([name, file]) =>
        `const ${name} = await import(${JSON.stringify(pathToFileURL(builtFile(file)).href)});`,
    )
    .join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', `${header}\n${body}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const firstLine = once(createInterface({ input: child.stdout! }), 'line').then(([line]) => line as string);
  const failed = once(child, 'exit').then(([code]) => {
    throw new Error(`script exited with ${code} before printing:\n${stderr}`);
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`script printed nothing in ${timeoutMs} ms:\n${stderr}`)),
      timeoutMs,
    );
  });
  try {
    const line = await Promise.race([firstLine, failed, timedOut]);
    return { child, firstLine: JSON.parse(line) as T };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
    failed.catch(() => undefined);
  }
}
