/**
 * docs/concepts.md promises a Spark user that every RDD method stratus has is in one table
 * (Spark method → stratus method → shuffles? → hidden job?). The published surface is the API
 * report (api/stratus.api.md, held by `npm run api:check`), so a method added to Dataset or a
 * source added to JobContext without its row fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../helpers/dist.js';

const read = (file: string) => readFileSync(path.join(PACKAGE_ROOT, file), 'utf8');

/** The member names declared in one `export class|interface <name>` block of the API report. */
function membersOf(report: string, declaration: RegExp): string[] {
  const start = report.search(declaration);
  expect(start, `${declaration} in the API report`).toBeGreaterThanOrEqual(0);
  const body = report.slice(start, report.indexOf('\n}\n', start));
  const names = [...body.matchAll(/^ {4}(?:readonly )?([a-zA-Z]\w*)[<(]/gm)].map((m) => m[1]!);
  return [...new Set(names)].sort();
}

/** The "stratus method" column of the RDD API table, as one text. */
function stratusColumn(concepts: string): string {
  const section = concepts.slice(concepts.indexOf('## The RDD API, method by method'));
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !l.startsWith('| Spark RDD method'));
  expect(rows.length).toBeGreaterThan(40);
  return rows.map((r) => r.split(' | ')[1] ?? '').join('\n');
}

describe('the RDD API table in docs/concepts.md', () => {
  const report = read('api/stratus.api.md');
  const column = stratusColumn(read('docs/concepts.md'));
  const named = (name: string) => new RegExp(`\\b${name}\\b`).test(column);

  it('has a row for every public Dataset method', () => {
    const methods = membersOf(report, /^export class Dataset<T>/m);
    expect(methods).toContain('cartesian');
    expect(methods.filter((m) => !named(m))).toEqual([]);
  });

  it('has a row for every dataset source of JobContext', () => {
    // Shared variables are not sources, and DataFrame sources are docs/dataframes.md's.
    const dataFrameSources = ['createDataFrame', 'sql'];
    const members = membersOf(report, /^export interface JobContext\b/m);
    const dataFrames = read('docs/dataframes.md');
    for (const m of dataFrameSources.filter((m) => members.includes(m)))
      expect(dataFrames, `ctx.${m} in docs/dataframes.md`).toContain(`ctx.${m}(`);
    const sources = members.filter((m) => !['accumulator', 'broadcast', ...dataFrameSources].includes(m));
    expect(sources).toEqual(
      expect.arrayContaining(['parallelize', 'textFile', 'wholeTextFiles', 'binaryFiles']),
    );
    expect(sources.filter((m) => !named(m))).toEqual([]);
  });
});
