/**
 * Row-group skipping by statistics: a row group is skipped only when no row of it passes the
 * pushed filters. Checked against a plain-JS evaluation of the filter with SQL's three-valued
 * logic (and DuckDB's NaN order: NaN is the greatest number, equal to itself) over random row
 * groups and random filters; min/max leave NaN out, as Parquet writers do.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ColumnNode } from '../../engine/sql/column.js';
import { type Column, col, expr, lit } from '../../engine/sql/column.js';
import type { FragmentOp } from '../../engine/sql/fragment.js';
import {
  compareStatistic,
  pushedFilters,
  type RowGroupStatistics,
  rowGroupMayMatch,
} from '../../engine/sql/parquet-pruning.js';

type Value = number | null;
type Truth = boolean | null;

const OPS = ['>', '>=', '<', '<=', '=', '!=', '<=>'] as const;

/** SQL's value of `x op v` for a non-null literal, NaN ordered as DuckDB orders it. */
function compare(x: Value, op: string, v: number): Truth {
  if (x === null) return op === '<=>' ? false : null;
  const c = Number.isNaN(x) ? (Number.isNaN(v) ? 0 : 1) : x < v ? -1 : x > v ? 1 : 0;
  switch (op) {
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '!=':
      return c !== 0;
    default:
      return c === 0;
  }
}

/** The plain-JS reference: the filter's value on one row `{ a: x }`. */
function evaluate(node: ColumnNode, x: Value): Truth {
  if (node.k === 'unary' && node.op === 'not') {
    const t = evaluate(node.child, x);
    return t === null ? null : !t;
  }
  if (node.k === 'unary' && node.op === 'isNull') return x === null;
  if (node.k === 'unary' && node.op === 'isNotNull') return x !== null;
  if (node.k === 'binary' && (node.op === 'AND' || node.op === 'OR')) {
    const l = evaluate(node.left, x);
    const r = evaluate(node.right, x);
    if (node.op === 'AND') return l === false || r === false ? false : l === null || r === null ? null : true;
    return l === true || r === true ? true : l === null || r === null ? null : false;
  }
  if (node.k === 'binary') {
    const literal = (
      node.right.k === 'lit' ? node.right.value : (node.left as { value: number }).value
    ) as number;
    const op =
      node.right.k === 'lit' ? node.op : ({ '>': '<', '>=': '<=', '<': '>', '<=': '>=' }[node.op] ?? node.op);
    return compare(x, op, literal);
  }
  if (node.k === 'call' && node.fn === 'isin') {
    if (x === null) return null;
    return node.args.slice(1).some((a) => compare(x, '=', (a as { value: number }).value) === true);
  }
  throw new Error(`unexpected node ${node.k}`);
}

function statistics(values: readonly Value[], float: boolean): RowGroupStatistics {
  const numbers = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  const text = (n: number) => (float ? n.toFixed(1) : String(n));
  const stats = {
    nullCount: values.filter((v) => v === null).length,
    ...(numbers.length > 0 ? { min: text(Math.min(...numbers)), max: text(Math.max(...numbers)) } : {}),
  };
  return { numRows: values.length, columns: new Map([['a', stats]]) };
}

const literal = fc.integer({ min: -6, max: 6 });
const filter: fc.Arbitrary<Column> = fc.letrec<{ f: Column }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.constantFrom(...OPS), literal, fc.boolean()).map(([op, v, flipped]) => {
      const c = col('a');
      const method = {
        '>': 'gt',
        '>=': 'geq',
        '<': 'lt',
        '<=': 'leq',
        '=': 'equalTo',
        '!=': 'notEqual',
        '<=>': 'eqNullSafe',
      }[op] as 'gt';
      if (!flipped || op === '<=>' || op === '=' || op === '!=') return c[method](v);
      // The literal on the left: `v < a` is `a > v`.
      const mirrored = { '>': 'lt', '>=': 'leq', '<': 'gt', '<=': 'geq' }[op] as 'gt';
      return lit(v)[mirrored](c);
    }),
    fc.constant(col('a').isNull()),
    fc.constant(col('a').isNotNull()),
    fc.array(literal, { minLength: 1, maxLength: 3 }).map((vs) => col('a').isin(...vs)),
    fc.tuple(tie('f'), tie('f')).map(([l, r]) => l.and(r)),
    fc.tuple(tie('f'), tie('f')).map(([l, r]) => l.or(r)),
    tie('f').map((f) => f.not()),
  ),
})).f;

const filterOp = (c: Column): FragmentOp => ({ op: 'filter', condition: c.node, label: 'where' });

describe('row-group skipping by statistics', () => {
  it.each([
    ['BIGINT', false],
    ['DOUBLE', true],
  ])(
    'a %s row group is skipped only when no row passes the filter (random groups and filters)',
    (type, float) => {
      const value: fc.Arbitrary<Value> = float
        ? fc.oneof(
            fc.integer({ min: -5, max: 5 }).map((n) => n + 0.5),
            fc.constant(Number.NaN),
            fc.constant(null),
          )
        : fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(null));
      let skipped = 0;
      fc.assert(
        fc.property(fc.array(value, { minLength: 1, maxLength: 8 }), filter, (values, f) => {
          const filters = pushedFilters([filterOp(f)]);
          const may = rowGroupMayMatch(filters, statistics(values, float), new Map([['a', type]]));
          if (!may) {
            skipped++;
            expect(values.filter((x) => evaluate(f.node, x) === true)).toEqual([]);
          }
        }),
        { numRuns: 400 },
      );
      // Not vacuous: many random row groups were skipped.
      expect(skipped).toBeGreaterThan(20);
    },
  );

  it('ranges on an integer column skip exactly the row groups outside them', () => {
    const group = (min: number, max: number) => ({
      numRows: 10,
      columns: new Map([['id', { min: String(min), max: String(max), nullCount: 0 }]]),
    });
    const types = new Map([['id', 'BIGINT']]);
    const f = pushedFilters([filterOp(col('ID').between(15, 25))]);
    expect(
      [group(0, 9), group(10, 19), group(20, 29), group(30, 39)].map((g) => rowGroupMayMatch(f, g, types)),
    ).toEqual([false, true, true, false]);
  });

  it('strings compare byte-wise, dates as written in expr, and a column of nulls matches only isNull', () => {
    const types = new Map([
      ['s', 'VARCHAR'],
      ['d', 'DATE'],
    ]);
    const g: RowGroupStatistics = {
      numRows: 4,
      columns: new Map([
        ['s', { min: 'apple', max: 'melon', nullCount: 0 }],
        ['d', { nullCount: 4 }],
      ]),
    };
    const may = (c: Column) => rowGroupMayMatch(pushedFilters([filterOp(c)]), g, types);
    expect(may(col('s').equalTo('zebra'))).toBe(false);
    expect(may(col('s').equalTo('kiwi'))).toBe(true);
    expect(may(col('s').lt('apple'))).toBe(false);
    expect(may(col('d').geq(expr("DATE '2020-01-01'")))).toBe(false);
    expect(may(col('d').isNull())).toBe(true);
    expect(may(col('d').isNotNull())).toBe(false);
    // An expr string is not understood: kept.
    expect(may(expr("s = 'zebra'"))).toBe(true);
  });

  it('only filters before an aggregate, sort or limit are pushed, and a redefined column is not trusted', () => {
    const ops: FragmentOp[] = [
      filterOp(col('a').gt(1)),
      { op: 'withColumn', name: 'b', column: lit(1).node, label: 'withColumn' },
      filterOp(col('b').gt(5)),
      { op: 'limit', n: 3, label: 'limit' },
      filterOp(col('a').gt(100)),
    ];
    const pushed = pushedFilters(ops);
    expect(pushed).toHaveLength(2);
    expect(pushed[1]!.shadowed.has('b')).toBe(true);
    const g: RowGroupStatistics = {
      numRows: 2,
      columns: new Map([
        ['a', { min: '2', max: '3', nullCount: 0 }],
        ['b', { min: '0', max: '0', nullCount: 0 }],
      ]),
    };
    // b > 5 would rule the group out by the file's b, but b is the withColumn's here.
    expect(
      rowGroupMayMatch(
        pushed,
        g,
        new Map([
          ['a', 'INTEGER'],
          ['b', 'INTEGER'],
        ]),
      ),
    ).toBe(true);
  });

  it('compares statistics exactly or not at all', () => {
    expect(
      compareStatistic('integer', '9007199254740993', { kind: 'number', value: 9007199254740992 }),
    ).toBeUndefined();
    expect(compareStatistic('integer', '3', { kind: 'number', value: 2.5 })).toBe(1);
    expect(compareStatistic('integer', '2', { kind: 'number', value: 2.5 })).toBe(-1);
    expect(compareStatistic('decimal', '12345678901234567.5', { kind: 'number', value: 1 })).toBeUndefined();
    expect(compareStatistic('float', 'NaN', { kind: 'number', value: 1 })).toBeUndefined();
    expect(compareStatistic('string', 'é', { kind: 'string', value: 'z' })).toBe(1);
  });
});
