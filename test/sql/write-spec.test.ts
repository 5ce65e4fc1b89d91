/**
 * The names a DataFrame write gives its files and folders (Spark's), partition discovery's
 * parsing and type inference, and the writer's checks of modes and options.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkWriteOptions,
  compressionOf,
  DEFAULT_PARTITION_NAME,
  dataFramePartName,
  discoverPartitions,
  escapePartitionText,
  inferPartitionType,
  partitionFolder,
  partitionSegments,
  partitionValuesOf,
  saveModeOf,
  unescapePartitionText,
  writeIdOf,
} from '../../engine/sql/write-spec.js';

describe('partition folder names', () => {
  it('escapes the characters Spark escapes as %XX and leaves the others (letters, spaces, unicode) as they are', () => {
    // Each escaped character, checked one by one against its code in hex.
    for (const ch of [
      '"',
      '#',
      '%',
      "'",
      '*',
      '/',
      ':',
      '=',
      '?',
      '\\',
      '{',
      '[',
      ']',
      '^',
      '\u0001',
      '\u001f',
      '\u007f',
    ]) {
      const hex = ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
      expect(escapePartitionText(`a${ch}b`)).toBe(`a%${hex}b`);
    }
    for (const text of ['east', 'sp ace', 'ünï', '2024-03-01', 'a-b_c.d', '}'])
      expect(escapePartitionText(text)).toBe(text);
  });

  it('unescaping an escaped text gives it back, for any text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        (text) => unescapePartitionText(escapePartitionText(text)) === text,
      ),
    );
  });

  it('null and the empty string are the default partition; columns nest in order', () => {
    expect(partitionFolder(['region', 'day'], ['a/b', null])).toBe(
      `region=a%2Fb/day=${DEFAULT_PARTITION_NAME}/`,
    );
    expect(partitionFolder(['k'], [''])).toBe(`k=${DEFAULT_PARTITION_NAME}/`);
    expect(partitionFolder([], [])).toBe('');
  });

  it('a file path gives back the values its folder was made from (segments without = are not partitions)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.string({ minLength: 1 }), { nil: null }), { minLength: 1, maxLength: 3 }),
        (values) => {
          const columns = values.map((_, i) => `c${i}`);
          const file = `/data/out/plain/${partitionFolder(columns, values)}part-00000.parquet`;
          const found = partitionSegments(file);
          return (
            JSON.stringify(found.map((s) => s.value)) === JSON.stringify(values) &&
            JSON.stringify(partitionValuesOf(file, columns)) === JSON.stringify(values)
          );
        },
      ),
    );
  });
});

describe('partition discovery', () => {
  it("infers Spark's types from every value: integer, long, double, date, timestamp, else string", () => {
    expect(inferPartitionType(['1', '-7', null])).toBe('INTEGER');
    expect(inferPartitionType(['1', '3000000000'])).toBe('BIGINT');
    expect(inferPartitionType(['1', '2.5'])).toBe('DOUBLE');
    expect(inferPartitionType(['2024-03-01', '2024-12-31'])).toBe('DATE');
    expect(inferPartitionType(['2024-03-01 10:00:00'])).toBe('TIMESTAMP');
    expect(inferPartitionType(['2024-03-01', 'east'])).toBe('VARCHAR');
    expect(inferPartitionType([null, null])).toBe('VARCHAR');
  });

  it('finds the columns of az:// and local paths, and refuses files whose folders name other columns', () => {
    expect(
      discoverPartitions([
        'az://c/out/day=2024-03-01/region=east/p.parquet',
        'az://c/out/day=2024-03-02/region=a%2Fb/p.parquet',
      ]).columns,
    ).toEqual([
      { name: 'day', type: 'DATE' },
      { name: 'region', type: 'VARCHAR' },
    ]);
    expect(discoverPartitions(['/tmp/out/part-0.parquet']).columns).toEqual([]);
    expect(() => discoverPartitions(['/o/a=1/p.parquet', '/o/b=1/p.parquet'])).toThrow(
      /conflicting partition folders: \/o\/a=1\/p\.parquet has a but \/o\/b=1\/p\.parquet has b/,
    );
  });
});

describe('part names, modes and options', () => {
  it("names parts as Spark: part-NNNNN-<id>.cNNN with the codec's infix", () => {
    const id = writeIdOf('apps/x/run-1/output-attempts/job-3/');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(writeIdOf('apps/x/run-1/output-attempts/job-4/')).not.toBe(id);
    expect(dataFramePartName(3, id, 0, 'parquet', 'snappy')).toBe(`part-00003-${id}.c000.snappy.parquet`);
    expect(dataFramePartName(0, id, 1, 'parquet', 'none')).toBe(`part-00000-${id}.c001.parquet`);
    expect(dataFramePartName(0, id, 0, 'csv', 'gzip')).toBe(`part-00000-${id}.c000.csv.gz`);
    expect(dataFramePartName(12, id, 0, 'json', 'none')).toBe(`part-00012-${id}.c000.json`);
  });

  it("accepts Spark's mode names in any case and refuses others by name", () => {
    expect(['ErrorIfExists', 'error', 'default', 'OVERWRITE', 'append', 'ignore'].map(saveModeOf)).toEqual([
      'errorifexists',
      'errorifexists',
      'errorifexists',
      'overwrite',
      'append',
      'ignore',
    ]);
    expect(() => saveModeOf('upsert')).toThrow(/"upsert" is not a save mode/);
  });

  it('checks options per format: CSV options on CSV only, one-character separators, known codecs', () => {
    expect(compressionOf('parquet', {})).toBe('snappy');
    expect(compressionOf('csv', {})).toBe('none');
    expect(compressionOf('json', { compression: 'GZIP' })).toBe('gzip');
    expect(() => checkWriteOptions('parquet', { header: true })).toThrow(
      /option "header" is not supported for parquet/,
    );
    expect(() => checkWriteOptions('csv', { sep: '::' })).toThrow(/sep must be one character/);
    expect(() => checkWriteOptions('csv', { compression: 'lzo' })).toThrow(
      /compression "lzo" is not supported/,
    );
    expect(() => checkWriteOptions('csv', { header: true, sep: ';', compression: 'gzip' })).not.toThrow();
  });
});
