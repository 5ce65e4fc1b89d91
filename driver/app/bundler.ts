/**
 * Bundles a job module into one ESM file (esbuild, dependencies included) and names it
 * by content hash, so executors download each distinct bundle once per instance.
 *
 * The module's `import … from 'stratus'` is not bundled: it resolves to the engine the
 * running process already has (`globalThis.__stratusEngine`), so the driver and every
 * executor build the graph with one engine instance and identical node classes.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, version as esbuildVersion, type Plugin } from 'esbuild';
import { StratusError } from '../../contract/errors.js';
import * as engine from '../../engine/index.js';
import { BundleCache } from './bundle-cache.js';

/** A bundled job module: its code and the sha256 that names it in the code container. */
export interface JobBundle {
  code: string;
  codeHash: string;
  /** The module file it was built from (absolute path). */
  entry: string;
}

/** The global through which a bundle reaches the host process' engine. */
export const ENGINE_GLOBAL = '__stratusEngine';

function engineShimSource(): string {
  const names = Object.keys(engine).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
  const lines = [`const engine = globalThis.${ENGINE_GLOBAL};`];
  lines.push(
    `if (!engine) throw new Error('stratus: this bundle must be loaded by a stratus driver or executor');`,
  );
  for (const name of names) lines.push(`export const ${name} = engine.${name};`);
  lines.push('export default engine;');
  return lines.join('\n');
}

const engineFromHost: Plugin = {
  name: 'stratus-engine-from-host',
  setup(b) {
    b.onResolve({ filter: /^stratus$/ }, () => ({ path: 'stratus', namespace: 'stratus-engine' }));
    b.onLoad({ filter: /.*/, namespace: 'stratus-engine' }, () => ({
      contents: engineShimSource(),
      loader: 'js',
    }));
  },
};

/** Resolve a module reference (path, or file: URL as `defineJob` records it) to an absolute file path. */
export function resolveModulePath(ref: string, cwd = process.cwd()): string {
  const file = ref.startsWith('file:') ? fileURLToPath(ref) : path.resolve(cwd, ref);
  if (!existsSync(file)) {
    throw new StratusError('JOB_MODULE_NOT_FOUND', `job module not found: ${file}`);
  }
  return file;
}

let sharedCache: BundleCache | undefined;

/** The process' bundle cache (in memory and in `.stratus/bundle-cache` of the working folder). */
function defaultBundleCache(): BundleCache {
  sharedCache ??= new BundleCache();
  return sharedCache;
}

/**
 * Bundle the job module at `entry`, or take the bundle from the content-addressed cache when
 * every file the last build read still has the same bytes (bundle-cache.ts); throws a
 * StratusError with esbuild's messages when it does not build. `cache: false` always builds.
 */
export async function bundleJobModule(
  entry: string,
  options: { cache?: BundleCache | false } = {},
): Promise<JobBundle> {
  const file = resolveModulePath(entry);
  if (options.cache === false) return (await buildBundle(file)).bundle;
  const cache = options.cache ?? defaultBundleCache();
  // The build's own settings are part of the key: a new esbuild or engine API builds afresh.
  const settings = `${esbuildVersion}\n${engineShimSource()}`;
  const hit = cache.lookup(file, settings);
  if (hit) return { code: hit.code, codeHash: hit.codeHash, entry: file };
  const builtFrom = performance.timeOrigin + performance.now();
  const { bundle, inputs } = await buildBundle(file);
  cache.store(file, settings, inputs, bundle, builtFrom);
  return bundle;
}

/** Build with esbuild: the bundle and the absolute paths of the files it read. */
async function buildBundle(file: string): Promise<{ bundle: JobBundle; inputs: string[] }> {
  let result: Awaited<ReturnType<typeof build>>;
  try {
    result = await build({
      entryPoints: [file],
      bundle: true,
      format: 'esm',
      platform: 'node',
      // Executors run Node 22 (infra/main.bicep's nodeVersion; test/infra/node-version.test.ts).
      target: 'node22',
      write: false,
      metafile: true,
      logLevel: 'silent',
      sourcemap: 'inline',
      sourcesContent: false,
      // Stacks from executors then name the user's files as they are on the driver's machine.
      absWorkingDir: path.dirname(file),
      sourceRoot: `${pathToFileURL(path.dirname(file)).href}/`,
      plugins: [engineFromHost],
      // Bundled CommonJS dependencies may call require(); give them Node's.
      banner: {
        js: "import { createRequire as __stratusCreateRequire } from 'node:module'; const require = __stratusCreateRequire(import.meta.url);",
      },
    });
  } catch (error) {
    const messages = (error as { errors?: { text: string; location?: { file: string; line: number } }[] })
      .errors;
    const detail = messages
      ?.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text))
      .join('\n');
    throw new StratusError(
      'JOB_MODULE_BUILD',
      `job module ${file} does not build:\n${detail ?? String(error)}`,
    );
  }
  const code = result.outputFiles?.[0]?.text;
  if (code === undefined) throw new Error(`esbuild produced no output for ${file}`);
  const codeHash = createHash('sha256').update(code).digest('hex');
  // Metafile inputs are relative to absWorkingDir; the engine shim (a namespace, not a file) is not one.
  const inputs = Object.keys(result.metafile?.inputs ?? {})
    .filter((input) => !input.includes(':'))
    .map((input) => path.resolve(path.dirname(file), input));
  return { bundle: { code, codeHash, entry: file }, inputs };
}
