/**
 * JSON writes like Spark's `df.write.json`: null fields are left out by default
 * (ignoreNullFields), in nested structs too, while array elements that are null stay; with
 * `ignoreNullFields` false every field is written, null as `null`. Each task's part file is read
 * line by line and compared with the input rows turned into objects in plain JS.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRelationalTask } from '../../duckdb/runner.js';
import { DataFrameWriter } from '../../engine/sql/dataframe.js';
import type { RelationalProgram } from '../../engine/sql/program.js';
import { checkWriteOptions, type WriteOptions } from '../../engine/sql/write-spec.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-json-write-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const columns = [
  { name: 'id', type: 'BIGINT', nullable: true },
  { name: 'name', type: 'VARCHAR', nullable: true },
  { name: 'score', type: 'DOUBLE', nullable: true },
  { name: 'tags', type: 'VARCHAR[]', nullable: true },
  { name: 'address', type: 'STRUCT(city VARCHAR, zip BIGINT)', nullable: true },
  { name: 'region', type: 'VARCHAR', nullable: true },
];

/** Rows with nulls in every column, nested null fields, null array elements and JSON-special text. */
function rows(): unknown[][] {
  return Array.from({ length: 30 }, (_, i) => [
    i % 7 === 3 ? null : i,
    i % 3 === 0 ? null : `name "${i}",\n{x}`,
    i % 4 === 1 ? null : i * 1.5,
    i % 5 === 2 ? null : i % 2 === 0 ? ['a', null, `t${i}`] : [],
    i % 6 === 5 ? null : { city: i % 2 === 0 ? null : `city-${i}`, zip: i % 3 === 1 ? null : 1000 + i },
    i % 2 === 0 ? 'east' : 'west',
  ]);
}

/** Spark's JSON of a row: an object of the non-null fields (recursively in structs), or of all of them. */
function expectedObject(
  row: unknown[],
  names: readonly string[],
  ignoreNulls: boolean,
): Record<string, unknown> {
  const strip = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => !(ignoreNulls && v === null))
        .map(([k, v]) => [k, strip(v)]),
    );
  };
  return strip(Object.fromEntries(names.map((n, i) => [n, row[i]]))) as Record<string, unknown>;
}

function program(options: WriteOptions, partitionBy: string[] = []): RelationalProgram {
  return {
    v: 1,
    input: { kind: 'local', rows: rows(), numSlices: 1, columns },
    sql: 'SELECT * FROM __input',
    output: columns,
    sink: { kind: 'write', format: 'json', partitionBy, options, compression: 'none' },
  };
}

async function writtenLines(options: WriteOptions, partitionBy: string[] = []) {
  const tempDir = await mkdtemp(path.join(dir, 'task-'));
  const out = await runRelationalTask(
    program(options, partitionBy),
    0,
    {},
    {
      tempDir,
      memoryBudgetBytes: 64 * 1024 * 1024,
    },
  );
  if (out.kind !== 'files') throw new Error(`expected part files, got ${out.kind}`);
  const files = [];
  for (const f of out.files) {
    const text = await readFile(f.file, 'utf8');
    const lines = text.split('\n').filter((l) => l.length > 0);
    files.push({ folder: f.folder, rows: f.rows, lines });
  }
  return files;
}

describe('DataFrame JSON writes', () => {
  const names = columns.map((c) => c.name);

  it('leave out null fields by default, nested ones too, keeping null array elements and field order', async () => {
    const [file, ...more] = await writtenLines({});
    expect(more).toHaveLength(0);
    const input = rows();
    expect(file!.rows).toBe(input.length);
    expect(file!.lines).toHaveLength(input.length);
    const parsed = file!.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toEqual(input.map((r) => expectedObject(r, names, true)));
    // The field order is the schema's, as Spark writes it.
    for (const [i, o] of parsed.entries())
      expect(Object.keys(o)).toEqual(Object.keys(expectedObject(input[i]!, names, true)));
    // No field is written as null; null array elements are.
    for (const line of file!.lines) expect(line).not.toMatch(/":null/);
    expect(file!.lines.some((l) => l.includes('["a",null,'))).toBe(true);
  });

  it("option('ignoreNullFields', false) writes every field, null as null", async () => {
    const [file] = await writtenLines({ ignoreNullFields: false });
    const input = rows();
    expect(file!.lines.map((l) => JSON.parse(l))).toEqual(input.map((r) => expectedObject(r, names, false)));
    expect(file!.lines.some((l) => l.includes('"id":null'))).toBe(true);
  });

  it('with partitionBy: each folder leaves out null fields too', async () => {
    const files = await writtenLines({}, ['region']);
    expect(files.map((f) => f.folder).sort()).toEqual(['region=east/', 'region=west/']);
    const others = names.filter((n) => n !== 'region');
    for (const f of files) {
      const region = f.folder.slice('region='.length, -1);
      const wanted = rows()
        .filter((r) => r[5] === region)
        .map((r) => expectedObject(r.slice(0, 5), others, true));
      // Row order within a folder is not kept (the task groups the rows by their value tuple).
      const sorted = (list: unknown[]) => list.map((o) => JSON.stringify(o)).sort();
      expect(sorted(f.lines.map((l) => JSON.parse(l)))).toEqual(sorted(wanted));
      for (const line of f.lines) expect(line).not.toMatch(/":null/);
    }
  });

  it('the option takes booleans or their text; other values and other formats are refused', () => {
    const writer = (value: string | boolean) =>
      new DataFrameWriter(undefined as never).option('ignoreNullFields', value);
    expect(() => writer('maybe')).toThrow(/ignoreNullFields must be true or false, got "maybe"/);
    expect(() => checkWriteOptions('json', { ignoreNullFields: false })).not.toThrow();
    expect(() => checkWriteOptions('csv', { ignoreNullFields: false })).toThrow(
      /option "ignoreNullFields" is not supported for csv/,
    );
  });
});
