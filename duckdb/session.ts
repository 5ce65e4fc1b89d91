/**
 * The embedded DuckDB that runs DataFrame fragments: one in-process database per task thread
 * (and one for the driver's binder), created on first use. A task gets a fresh connection with
 * the task's settings — `threads = 1` (a slot is one core: concurrent tasks get their
 * parallelism from the task threads, not from DuckDB), `memory_limit` from the task's memory
 * budget — and temp tables and views it makes are dropped with the connection. DuckDB spills to
 * one temp directory per database (spillDirectory): it refuses to switch directories once it has
 * spilled, so a per-task directory would fail every task after the first spill of its thread.
 * `@duckdb/node-api` is loaded lazily: only code that runs a DataFrame pays for the native library.
 */
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** Settings of one session (a task, or the driver's binder). */
export interface SessionOptions {
  /** DuckDB's memory_limit for the session, bytes (at least 64 MiB is used). */
  memoryLimitBytes: number;
  /** Interrupts the running query when aborted (the executor is shutting down). */
  signal?: AbortSignal;
}

let instance: Promise<DuckDBInstance> | undefined;

/**
 * Where this thread's DuckDB spills operators that exceed the memory limit: a directory of its
 * own under the OS temp folder (one task runs in a thread at a time, so its spills are the task's).
 * DuckDB creates it on the first spill and deletes its files as it frees them.
 */
export function spillDirectory(): string {
  return path.join(tmpdir(), `stratus-duckdb-${process.pid}-${threadId}`);
}

/**
 * Remove the spill directories of this process's threads (the executor is shutting down and its
 * task threads have ended); DuckDB leaves them behind, empty, when a thread ends.
 */
export function removeSpillDirectories(): void {
  const prefix = `stratus-duckdb-${process.pid}-`;
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(prefix)) rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
  }
}

async function sharedInstance(): Promise<DuckDBInstance> {
  instance ??= (async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    // No extensions are installed or downloaded at run time: Parquet, CSV and JSON are built in.
    return DuckDBInstance.create(':memory:', {
      threads: '1',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      temp_directory: spillDirectory(),
    });
  })();
  return instance;
}

/** Run `fn` with a connection configured by `options`; the connection is closed after. */
export async function withSession<T>(
  options: SessionOptions,
  fn: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const db = await sharedInstance();
  const connection = await db.connect();
  const interrupt = () => connection.interrupt();
  options.signal?.addEventListener('abort', interrupt, { once: true });
  try {
    options.signal?.throwIfAborted();
    const mib = Math.max(64, Math.floor(options.memoryLimitBytes / (1024 * 1024)));
    await connection.run(`SET memory_limit = '${mib}MiB'`);
    await connection.run('SET threads = 1');
    await connection.run('SET preserve_insertion_order = true');
    return await fn(connection);
  } finally {
    options.signal?.removeEventListener('abort', interrupt);
    connection.closeSync();
  }
}
