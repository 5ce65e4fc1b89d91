/**
 * Column expressions, schemas and the range-exchange arithmetic: Spark's names for expressions,
 * the DuckDB SQL they render to, schema strings, show's table, and — checked in DuckDB — that a
 * row's range partition computed in SQL is the number of sampled bounds before it in the sort
 * order the driver ranked them by.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { noHiddenResults } from '../../engine/dataset/actions.js';
import {
  avg,
  col,
  columnName,
  columnSql,
  count,
  countDistinct,
  expr,
  lit,
  sum,
} from '../../engine/sql/column.js';
import { compareSortKeys, showString, sortSampleImpl } from '../../engine/sql/df-actions.js';
import { partitionSql } from '../../engine/sql/program.js';
import { schemaTreeString, sparkTypeOf, toStructType } from '../../engine/sql/types.js';

describe('column expressions', () => {
  it('have Spark output names', () => {
    expect(columnName(col('amount').gt(100).node)).toBe('(amount > 100)');
    expect(columnName(sum('amount').node)).toBe('sum(amount)');
    expect(columnName(count('*').node)).toBe('count(1)');
    expect(columnName(avg(col('a').plus(col('b'))).node)).toBe('avg((a + b))');
    expect(columnName(countDistinct('k').node)).toBe('count(DISTINCT k)');
    expect(columnName(sum('amount').as('total').node)).toBe('total');
    expect(columnName(expr('amount * 2').node)).toBe('amount * 2');
    expect(columnName(expr('amount * 2 AS twice').node)).toBe('twice');
    expect(columnName(col('x').cast('double').node)).toBe('CAST(x AS DOUBLE)');
  });

  it('render to DuckDB SQL with quoted names, Spark division and null-safe equality', () => {
    expect(columnSql(col('order').equalTo('x').node)).toBe(`("order" = 'x')`);
    expect(columnSql(col('a').divide(col('b')).node)).toBe('("a" / NULLIF("b", 0))');
    expect(columnSql(col('a').eqNullSafe(lit(null)).node)).toBe('("a" IS NOT DISTINCT FROM NULL)');
    expect(columnSql(col('a').isin(1, 2).node)).toBe('("a" IN (1, 2))');
    expect(columnSql(col('a').between(1, 5).not().node)).toBe('(NOT (("a" >= 1) AND ("a" <= 5)))');
    expect(columnSql(lit(1.5).node)).toBe('1.5::DOUBLE');
    expect(columnSql(col('a').cast('decimal(10,2)').node)).toBe('CAST("a" AS DECIMAL(10,2))');
  });
});

describe('schemas', () => {
  it('are read from DDL strings, objects or fields, with Spark type names', () => {
    expect(toStructType('id LONG, name STRING, price DECIMAL(10, 2) NOT NULL', 't').fields).toEqual([
      { name: 'id', type: 'BIGINT', nullable: true },
      { name: 'name', type: 'VARCHAR', nullable: true },
      { name: 'price', type: 'DECIMAL(10,2)', nullable: false },
    ]);
    expect(toStructType({ d: 'date', n: 'int' }, 't').fields.map((f) => f.type)).toEqual(['DATE', 'INTEGER']);
    expect(() => toStructType('a INT, A STRING', 't')).toThrow(/appears twice/);
    expect(() => toStructType('a VARCHAR2', 't')).toThrow(/unknown column type "VARCHAR2"/);
  });

  it('print as Spark prints them', () => {
    expect(sparkTypeOf('BIGINT')).toBe('long');
    expect(sparkTypeOf('INTEGER[]')).toBe('array<integer>');
    expect(schemaTreeString(toStructType('id LONG, d DATE', 't'))).toBe(
      'root\n |-- id: long (nullable = true)\n |-- d: date (nullable = true)\n',
    );
  });
});

describe('show', () => {
  it('frames the first n rows right-aligned, cuts long strings, prints null and doubles as Spark', () => {
    const text = showString(
      ['name', 'x'],
      ['VARCHAR', 'DOUBLE'],
      [
        ['a very long string that goes on', 1],
        [null, 2.5],
      ],
      1,
    );
    expect(text).toBe(
      [
        '+--------------------+---+',
        '|                name|  x|',
        '+--------------------+---+',
        '|a very long strin...|1.0|',
        '+--------------------+---+',
        'only showing top 1 row',
        '',
      ].join('\n'),
    );
  });
});

describe('range exchange', () => {
  const directions = [
    { ascending: false, nullsFirst: false },
    { ascending: true, nullsFirst: true },
  ];
  const orders = [col('a').desc().node, col('b').asc().node];
  const value = fc.option(fc.integer({ min: -3, max: 3 }), { nil: null });
  const tuple = fc.tuple(value, fc.option(fc.constantFrom('x', 'y', 'é', 'z'), { nil: null }));

  it('partitions a row by the number of bounds before it, as the driver ranked the samples', async () => {
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await db.connect();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(tuple, { minLength: 1, maxLength: 12 }),
          fc.array(tuple, { minLength: 1, maxLength: 10 }),
          async (samples, rows) => {
            const merged = sortSampleImpl(directions).merge(
              [{ count: samples.length, keys: samples }],
              noHiddenResults,
            ) as {
              keys: [number, unknown[]][];
            }[];
            // Distinct bounds in rank order, as computeRangeBounds would pick them.
            const seen = new Map<number, unknown[]>();
            for (const [rank, t] of merged[0]!.keys) seen.set(rank, t);
            const bounds = [...seen].sort((x, y) => x[0] - y[0]).map(([, t]) => t);
            const sql = partitionSql({ mode: 'range', orders }, bounds.length + 1, bounds);
            for (const row of rows) {
              const values = `SELECT ${row[0] === null ? 'NULL::INTEGER' : row[0]} AS a, ${row[1] === null ? 'NULL::VARCHAR' : `'${row[1]}'`} AS b`;
              const reader = await connection.runAndReadAll(`SELECT ${sql} FROM (${values})`);
              const expected = bounds.filter((b) => compareSortKeys(b, row, directions) < 0).length;
              expect(Number(reader.getRowsJson()[0]![0])).toBe(expected);
            }
          },
        ),
        { numRuns: 40, seed: 14 },
      );
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });
});
