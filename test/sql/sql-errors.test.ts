/**
 * What `ctx.sql` refuses, on the driver before any task starts, and how it says so: a syntax
 * error with its line, column and a caret under the place; a table that is no temp view,
 * naming the views there are; a column that does not exist, naming the columns there are; a
 * construct not supported yet, named — each with the call site of the `ctx.sql` call.
 */
import { describe, expect, it } from 'vitest';
import { bindDataFrames } from '../../duckdb/binder.js';
import { buildJobGraphWithSql } from '../../duckdb/sql-graph.js';
import type { JobContext } from '../../engine/dataset/context.js';
import { defineJob } from '../../engine/dataset/job.js';
import { SCHEMA, salesRows } from './sales-table.js';

const ROWS = salesRows(20);

/** Build (with the driver's SQL parse) and bind a job whose builder defines `sales` and runs `build`. */
async function analyse(build: (ctx: JobContext) => unknown): Promise<void> {
  const job = defineJob((ctx) => {
    ctx.createDataFrame(ROWS, SCHEMA, 2).createOrReplaceTempView('sales');
    ctx
      .createDataFrame([{ region: 'north', manager: 'ann' }], 'region STRING, manager STRING')
      .createTempView('regions');
    return build(ctx) as never;
  });
  const graph = await buildJobGraphWithSql(job, undefined, { defaultParallelism: 2 });
  await bindDataFrames(graph, async () => undefined);
}

/** The error `promise` rejects with (it must reject). */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the query to be refused');
}

describe('ctx.sql errors are raised on the driver before any task, naming the call', () => {
  it('a syntax error gives its line and column and a caret under the place', async () => {
    const error = await failure(analyse((ctx) => ctx.sql('SELECT id,\n  region\nFORM sales').collect()));
    expect(error.code).toBe('DATAFRAME_ANALYSIS');
    expect(error.message).toMatch(/^sql at sql-errors\.test\.ts:\d+: syntax error at or near "sales"/);
    expect(error.message).toContain('at line 3, column 6:\n    FORM sales\n         ^');
  });

  it('an unknown table names the temp views there are', async () => {
    const error = await failure(analyse((ctx) => ctx.sql('SELECT *\nFROM sale').collect()));
    expect(error.code).toBe('DATAFRAME_ANALYSIS');
    expect(error.message).toMatch(
      /^sql at sql-errors\.test\.ts:\d+: table or view "sale" not found at line 2, column 6/,
    );
    expect(error.message).toContain('temp views: regions, sales');
  });

  it('an unknown column names the columns there are', async () => {
    const error = await failure(
      analyse((ctx) => ctx.sql('SELECT region FROM sales WHERE amont > 3').collect()),
    );
    expect(error.code).toBe('DATAFRAME_ANALYSIS');
    expect(error.message).toMatch(/^sql at sql-errors\.test\.ts:\d+ \(WHERE at line 1, column \d+\): /);
    expect(error.message).toContain('amont');
    expect(error.message).toContain('over columns: id, region, amount, qty, day');
  });

  it('an unknown column in an aggregation names the columns there are', async () => {
    const error = await failure(
      analyse((ctx) => ctx.sql('SELECT region, sum(price) FROM sales GROUP BY region').collect()),
    );
    expect(error.message).toMatch(/^sql at sql-errors\.test\.ts:\d+ \(GROUP BY at line 1, column 47\): /);
    expect(error.message).toContain('over columns: id, region, amount, qty, day');
  });

  it('a column neither grouped nor aggregated is refused', async () => {
    const error = await failure(
      analyse((ctx) => ctx.sql('SELECT region, qty FROM sales GROUP BY region').collect()),
    );
    expect(error.message).toContain('column "qty" must appear in GROUP BY or inside an aggregate function');
    expect(error.message).toContain('at line 1, column 16');
  });

  it('a column name on both sides of a join is refused, not picked from one side', async () => {
    const error = await failure(
      analyse((ctx) =>
        ctx.sql('SELECT s.id, r.region FROM sales s JOIN regions r ON s.region = r.manager').collect(),
      ),
    );
    expect(error.code).toBe('DATAFRAME_ANALYSIS');
    expect(error.message).toMatch(
      /sql at sql-errors\.test\.ts:\d+ \(JOIN at line 1, column \d+\): column region is on both sides/,
    );
  });

  it('an outer join on a condition refuses a column name on both sides, the join key too', async () => {
    const error = await failure(
      analyse((ctx) =>
        ctx
          .sql(
            'SELECT s.id FROM sales s LEFT JOIN regions r ON s.region = r.region AND r.manager <> s.region',
          )
          .collect(),
      ),
    );
    expect(error.code).toBe('DATAFRAME_ANALYSIS');
    expect(error.message).toMatch(/\(JOIN at line 1, column \d+\): column region is on both sides/);
  });

  it('a full outer join without an equality (which no side can be broadcast for) is refused when planned', async () => {
    const error = await failure(
      analyse((ctx) =>
        ctx
          .sql('SELECT s.id, r.manager FROM sales s FULL JOIN (SELECT manager FROM regions) r ON s.id > 3')
          .collect(),
      ),
    );
    expect(error.message).toMatch(
      /sql at sql-errors\.test\.ts:\d+ \(JOIN at line 1, column \d+\): the join condition has no equality between a column of each side/,
    );
  });

  const refused: [string, string, RegExp][] = [
    [
      'a window function inside a window function',
      'SELECT id, sum(row_number() OVER (ORDER BY id)) OVER () FROM sales',
      /a window function inside a window function is not supported yet/,
    ],
    [
      'a window function in WHERE',
      'SELECT id FROM sales WHERE row_number() OVER (ORDER BY id) > 2',
      /a window function outside the SELECT list .* is not supported yet/,
    ],
    [
      'an aggregate in a join condition',
      'SELECT s.id FROM sales s LEFT JOIN regions r ON s.region = r.region AND s.id < max(s.qty)',
      /an aggregate function in a join condition at line 1, column \d+/,
    ],
    [
      'an aggregate inside a WHERE condition',
      'SELECT id FROM sales WHERE qty > 1 AND id < max(qty)',
      /an aggregate function in WHERE \(use HAVING\) at line 1, column 45/,
    ],
    [
      'a GROUPS frame',
      'SELECT id, sum(qty) OVER (ORDER BY id GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM sales',
      /a GROUPS frame is not supported yet/,
    ],
    [
      'IGNORE NULLS',
      'SELECT id, lag(qty IGNORE NULLS) OVER (ORDER BY id) FROM sales',
      /IGNORE NULLS in a window function is not supported yet/,
    ],
    [
      'a comma join',
      'SELECT s.id FROM sales s, regions r WHERE s.region = r.region',
      /comma join or CROSS JOIN/,
    ],
    [
      'a subquery in an expression',
      'SELECT id FROM sales WHERE region IN (SELECT region FROM regions)',
      /a subquery inside an expression is not supported yet/,
    ],
    ['OFFSET', 'SELECT id FROM sales LIMIT 3 OFFSET 2', /OFFSET is not supported yet/],
    [
      'INTERSECT',
      'SELECT region FROM sales INTERSECT SELECT region FROM regions',
      /INTERSECT is not supported yet/,
    ],
    [
      'ROLLUP',
      'SELECT region, count(*) FROM sales GROUP BY ROLLUP (region)',
      /GROUPING SETS, ROLLUP or CUBE is not supported yet/,
    ],
    [
      'a table function',
      "SELECT * FROM read_parquet('x.parquet')",
      /a table function in FROM \(read files with ctx\.read\) is not supported yet/,
    ],
    ['DML', 'DELETE FROM sales', /ctx\.sql runs SELECT queries only/],
    [
      'two statements',
      'SELECT 1 FROM sales; SELECT 2 FROM sales',
      /one SELECT query, the text has 2 statements/,
    ],
  ];
  for (const [name, sql, message] of refused) {
    it(`${name} is refused, named`, async () => {
      const error = await failure(analyse((ctx) => ctx.sql(sql).collect()));
      expect(error.code).toBe('DATAFRAME_ANALYSIS');
      expect(error.message).toMatch(/^sql at sql-errors\.test\.ts:\d+: /);
      expect(error.message).toMatch(message);
    });
  }

  it('createTempView refuses a name that exists; createOrReplaceTempView replaces it', async () => {
    const error = await failure(
      analyse((ctx) => {
        ctx.createDataFrame(ROWS, SCHEMA).createTempView('SALES');
        return ctx.sql('SELECT * FROM sales').collect();
      }),
    );
    expect(error.message).toMatch(
      /createTempView at sql-errors\.test\.ts:\d+: temp view "SALES" already exists/,
    );
    await analyse((ctx) => {
      ctx.createDataFrame(ROWS, SCHEMA).createOrReplaceTempView('SALES');
      return ctx.sql('SELECT * FROM sales').collect();
    });
  });
});

describe('ctx.sql GROUP BY without an aggregate', () => {
  it('groups, as SELECT DISTINCT of the keys (plain-JS reference)', async () => {
    const { runDataFrameJob } = await import('./local-dataframe-runner.js');
    const job = defineJob((ctx) => {
      ctx.createDataFrame(ROWS, SCHEMA, 3).createOrReplaceTempView('sales');
      return ctx.sql('SELECT qty, region FROM sales GROUP BY region, qty').collect();
    });
    const rows = (await runDataFrameJob(job, undefined, { defaultParallelism: 2 })) as Record<
      string,
      unknown
    >[];
    const key = (r: Record<string, unknown>) => JSON.stringify([r.qty, r.region]);
    const expected = [...new Set(ROWS.map(key))].sort();
    expect(rows.map(key).sort()).toEqual(expected);
    expect(Object.keys(rows[0]!)).toEqual(['qty', 'region']);
  });
});
