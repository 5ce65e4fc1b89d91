/**
 * The built package (`dist/`), for tests that start a separate Node process the way a user
 * would: `npm test` builds first; running vitest alone needs `npm run build` beforehand.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The package root (the folder holding package.json). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of a built file under `dist/`; throws a clear error when it was not built. */
export function builtFile(relative: string): string {
  const file = path.join(PACKAGE_ROOT, 'dist', relative);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
  return file;
}

/** How a run of the built CLI ended: its exit code and what it printed. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run the built `stratus` command (`dist/driver/cli.js`) in a process of its own, as a user
 * would; resolves for any exit code (rejects only when it cannot start or times out).
 */
export async function runBuiltCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [builtFile('driver/cli.js'), ...args],
      {
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 60_000,
        ...(options.cwd ? { cwd: options.cwd } : {}),
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string; killed?: boolean };
    if (typeof failed.code !== 'number' || failed.killed) throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** How a test reads the built CLI's stdout pipe: slowly to the end, or only its first line. */
export type PipeReader = 'slow' | 'first-line';

/** How a run of the built CLI through a pipe ended: exit code, the bytes read, stderr. */
export interface PipedCliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Run the built `stratus` with its stdout on a pipe read the way `reader` says: `slow` pauses
 * after every chunk (a reader slower than the writer, as `| ssh …` or `| gzip -9` can be), so
 * output still queued in the CLI when it exits is lost; `first-line` closes the pipe after the
 * first newline, as `| head -1` does. Resolves when the process has exited.
 */
export async function pipeBuiltCli(
  args: readonly string[],
  reader: PipeReader,
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<PipedCliResult> {
  const child = spawn(process.execPath, [builtFile('driver/cli.js'), ...args], {
    env: options.env ?? process.env,
    cwd: options.cwd ?? PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    if (reader === 'first-line' && chunk.includes(10)) {
      child.stdout.destroy(); // closes our end: the CLI's next write meets EPIPE
    } else if (reader === 'slow') {
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 2);
    }
  });
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout: Buffer.concat(chunks), stderr };
}
