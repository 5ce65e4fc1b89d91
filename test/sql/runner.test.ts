/**
 * The relational task runner's failures: a query that fails in DuckDB — a corrupt Parquet file,
 * a CSV value that does not convert — is a non-retryable DATAFRAME_TASK error naming the input
 * file the user gave; an aborted task stops its query.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRelationalTask } from '../../duckdb/runner.js';
import type { RelationalProgram } from '../../engine/sql/program.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-runner-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const columns = [
  { name: 'id', type: 'BIGINT', nullable: true },
  { name: 'name', type: 'VARCHAR', nullable: true },
];

function scan(format: 'parquet' | 'csv'): RelationalProgram {
  return {
    v: 1,
    input: {
      kind: 'scan',
      nodeId: 0,
      format,
      columns,
      ...(format === 'csv'
        ? { csv: { header: true, sep: ',', quote: '"', escape: '"', nullValue: '', inferSchema: false } }
        : {}),
    },
    sql: 'SELECT * FROM __input',
    output: columns,
    sink: { kind: 'count' },
  };
}

describe('relational task failures', () => {
  it('a corrupt Parquet file fails without retry, naming the file the user gave', async () => {
    const file = path.join(dir, 'corrupt.parquet');
    await writeFile(file, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 7), Buffer.from('PAR1')]));
    const tempDir = await mkdtemp(path.join(dir, 'task-'));
    const run = runRelationalTask(
      scan('parquet'),
      0,
      { scanFiles: [{ path: file, skipHeader: false }] },
      {
        tempDir,
        memoryBudgetBytes: 64 * 1024 * 1024,
        inputNames: ['az://data/sales/part-7.parquet'],
      },
    );
    await expect(run).rejects.toMatchObject({
      code: 'DATAFRAME_TASK',
      retryable: false,
      message: expect.stringContaining('reading az://data/sales/part-7.parquet'),
    });
  });

  it('a CSV value that does not convert to its column type fails without retry', async () => {
    const file = path.join(dir, 'bad.csv');
    await writeFile(file, 'id,name\n1,a\nnot-a-number,b\n');
    const tempDir = await mkdtemp(path.join(dir, 'task-'));
    // Collected, so the column is read (a count would not parse it).
    const collect: RelationalProgram = { ...scan('csv'), sink: { kind: 'rows' } };
    const run = runRelationalTask(
      collect,
      0,
      { scanFiles: [{ path: file, skipHeader: true }] },
      {
        tempDir,
        memoryBudgetBytes: 64 * 1024 * 1024,
        inputNames: ['sales.csv'],
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'DATAFRAME_TASK', retryable: false });
    await expect(run).rejects.toThrow(/reading sales\.csv: .*not-a-number/s);
  });

  it('an aborted task does not run its query', async () => {
    const abort = new AbortController();
    abort.abort(new Error('executor is shutting down'));
    const tempDir = await mkdtemp(path.join(dir, 'task-'));
    const run = runRelationalTask(
      scan('csv'),
      0,
      {},
      {
        tempDir,
        memoryBudgetBytes: 64 * 1024 * 1024,
        signal: abort.signal,
      },
    );
    await expect(run).rejects.toThrow(/shutting down/);
  });
});
