/**
 * What `stratus run` can check about a job module before it starts a local fabric (10–20 s of
 * Azurite and executor start-up): that its params are JSON and pass its params schema, that its
 * builder builds, and that its local input files exist. Each failure is the same error the run
 * would have thrown later (PARAMS_INVALID, BUILDER_FAILED, INPUT_NOT_FOUND), only sooner. Blob
 * inputs are checked by the run itself, once storage is there.
 */
import path from 'node:path';
import { validateJobParams } from '../../engine/dataset/job-params.js';
import { loadJobBundle } from '../../engine/plan/module-loader.js';
import { localInputPath, parseBlobLocation } from '../data/input-sources.js';
import { resolveInputFiles } from '../data/input-splitter.js';
import { bundleJobModule } from './bundler.js';
import { buildRunGraph } from './job-run.js';
import { checkJobParams } from './params.js';

/**
 * Check the job module at `file` with `params` as `driver.run` would, planning for
 * `defaultParallelism` slots; resolves when the run could start, throws the run's error otherwise.
 * Starts nothing and uploads nothing.
 */
export async function preflightJobModule(
  file: string,
  params: Record<string, unknown>,
  defaultParallelism: number,
): Promise<void> {
  checkJobParams(params);
  const bundle = await bundleJobModule(file);
  const definition = await loadJobBundle(bundle.codeHash, bundle.code);
  const runParams = await validateJobParams(definition.params, params, path.basename(bundle.entry));
  if (runParams !== params)
    checkJobParams(runParams, `the output of ${path.basename(bundle.entry)}'s params schema`);
  const graph = await buildRunGraph(definition, runParams, bundle.entry, defaultParallelism);
  for (const source of graph.sources()) {
    if (parseBlobLocation(source.uri)) continue;
    await resolveInputFiles(localInputPath(source.uri));
  }
}
