/**
 * Building a job's graph when its builder calls `ctx.sql`: builders are synchronous and DuckDB's
 * parser is not, so the driver builds twice. The first build records the SQL texts (each
 * `ctx.sql` returns a stand-in DataFrame, and that graph is thrown away); the texts are parsed
 * (sql-parse.ts); the second build plans every query from its parse. A builder that calls no
 * `ctx.sql` is built once. The parses travel with the run, so a rebuild elsewhere needs no parser.
 */
import type { JobDefinition } from '../engine/dataset/job.js';
import { type BuildOptions, buildJobGraph, type JobGraph } from '../engine/plan/graph.js';
import { parseSqlTexts } from './sql-parse.js';

/** buildJobGraph, with the SQL texts of `ctx.sql` calls parsed by DuckDB between two builds. */
export async function buildJobGraphWithSql<P>(
  definition: JobDefinition<P>,
  params: P,
  options: Omit<BuildOptions, 'sql'>,
): Promise<JobGraph> {
  const missing = new Set<string>();
  const first = buildJobGraph(definition, params, { ...options, sql: { parsed: {}, missing } });
  if (missing.size === 0) return first;
  const parsed = await parseSqlTexts(missing);
  return buildJobGraph(definition, params, { ...options, sql: { parsed } });
}
