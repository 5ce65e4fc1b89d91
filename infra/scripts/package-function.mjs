#!/usr/bin/env node
/**
 * Builds the deployable executor function app into dist/function-app/:
 *   host.json        the same file the local host reads (executor-function/host.json)
 *   package.json     `main: app.js`, CommonJS
 *   app.js           the entry point, @azure/functions bundled in
 *   task-thread.js   the task-thread entry the app's worker pool starts
 *   *.js.map         their source maps, naming each source `stratus:<path in the package>`
 *
 * `@azure/functions-core` stays external: the Functions Node worker provides it at runtime by
 * intercepting `require` (and so does stratus' local host). `@duckdb/node-api` stays external too:
 * its native binding (a `.node` addon and libduckdb.so) cannot be bundled, so the package ships it
 * in node_modules/ — the API, the bindings loader, the Linux x64 glibc binary the Functions host
 * runs on, and detect-libc, which the loader requires — copied from this install as they are.
 * Every other dependency is bundled, so the artifact needs no `npm install` on Azure (azd deploys
 * this folder as is).
 *
 * Beside the artifact, dist/function-app.meta.json records which source files went into each
 * bundle (esbuild's metafile), so tests can prove no devDependency was bundled.
 * Usage: `npm run package:function`.
 */
import { copyFile, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** What the bundles' source maps put before each source's path in the package (see nameSourcesFromRoot). */
const SOURCE_ROOT = 'stratus:';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outdir = path.join(root, 'dist', 'function-app');
const rootPackage = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: {
    app: 'executor-function/app.ts',
    'task-thread': 'executor-function/task-thread.ts',
  },
  outdir,
  bundle: true,
  platform: 'node',
  // The Node major the function app runs on (infra/main.bicep's nodeVersion; node-version.test.ts).
  target: 'node22',
  format: 'cjs',
  sourcemap: 'linked',
  // Stacks need only the mappings; without the sources' text the maps are a fraction of the size,
  // so a task thread that turns them on (worker-pool.ts) parses less at start.
  sourcesContent: false,
  logLevel: 'warning',
  metafile: true,
  external: ['@azure/functions-core', '@duckdb/node-api'],
  // The sources are ESM and find their neighbours (host.json, task-thread.js) through
  // import.meta.url; in a CommonJS bundle that is the bundle file's own URL.
  define: { 'import.meta.url': '__stratusModuleUrl' },
  banner: { js: "const __stratusModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});

await writeFile(`${outdir}.meta.json`, `${JSON.stringify(result.metafile)}\n`);
for (const bundle of ['app.js', 'task-thread.js'])
  await nameSourcesFromRoot(path.join(outdir, `${bundle}.map`));
await copyFile(path.join(root, 'executor-function', 'host.json'), path.join(outdir, 'host.json'));
const appPackage = {
  name: 'stratus-executor',
  version: rootPackage.version,
  description: 'stratus executor: the queue-triggered Azure Functions app that runs tasks',
  private: true,
  type: 'commonjs',
  main: 'app.js',
  // The root package's range: one Node LTS everywhere (test/infra/node-version.test.ts).
  engines: { node: rootPackage.engines.node },
  dependencies: {},
};
await writeFile(path.join(outdir, 'package.json'), `${JSON.stringify(appPackage, null, 2)}\n`);

/** The packages the DuckDB binding needs at run time, shipped as installed (see the file comment). */
export const SHIPPED_PACKAGES = [
  '@duckdb/node-api',
  '@duckdb/node-bindings',
  '@duckdb/node-bindings-linux-x64',
  'detect-libc',
];
for (const name of SHIPPED_PACKAGES) {
  await cp(path.join(root, 'node_modules', name), path.join(outdir, 'node_modules', name), {
    recursive: true,
  });
}

const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.js'))
  .map(([file, info]) => `${path.relative(root, file)} ${(info.bytes / 1024).toFixed(0)} KiB`);
console.log(`function app packaged in ${path.relative(root, outdir)}: ${sizes.join(', ')}`);

/**
 * Name a bundle's sources by their path in the package under the `stratus:` scheme
 * (`stratus:engine/task/pipeline.ts`), as Node names its own frames `node:internal/…`. esbuild
 * writes them relative to the map (`../../engine/…`), and Node resolves relative sources against
 * wherever the app sits: on Azure (`/home/site/wwwroot`) a frame read `/home/engine/…`, a file
 * that exists nowhere. A source with a scheme is printed as is.
 */
async function nameSourcesFromRoot(mapFile) {
  const map = JSON.parse(await readFile(mapFile, 'utf8'));
  const base = path.dirname(mapFile);
  map.sources = map.sources.map((source) =>
    path
      .relative(root, path.resolve(base, map.sourceRoot ?? '', source))
      .split(path.sep)
      .join('/'),
  );
  map.sourceRoot = SOURCE_ROOT;
  await writeFile(mapFile, JSON.stringify(map));
}
