/**
 * Node module hooks (registered by ts-loader.ts) that let `stratus run` import TypeScript
 * job modules and driver scripts directly: each `.ts` file is transpiled on its own with
 * esbuild (types stripped, nothing bundled), so a job module keeps its real file path —
 * which is what `defineJob` records and the driver bundles. TypeScript's ESM convention of
 * importing `./x.js` for `./x.ts` is honoured.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const TS_FILE = /\.(?:ts|mts|cts|tsx)$/;

interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;
type NextLoad = (url: string, context: unknown) => Promise<unknown>;

/** Resolve `./x.js` to `./x.ts` when only the TypeScript file exists. */
export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith('./') || specifier.startsWith('../');
    if (relative && /\.(?:js|mjs)$/.test(specifier) && context.parentURL) {
      const candidate = specifier.replace(/\.m?js$/, (ext) => (ext === '.mjs' ? '.mts' : '.ts'));
      try {
        return await nextResolve(candidate, context);
      } catch {
        // fall through to the original error, which names the specifier the user wrote
      }
    }
    throw error;
  }
}

/** Transpile TypeScript files to ES modules. */
export async function load(url: string, context: unknown, nextLoad: NextLoad) {
  if (!url.startsWith('file:') || !TS_FILE.test(url)) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = await readFile(file, 'utf8');
  const result = await transform(source, {
    loader: file.endsWith('x') ? 'tsx' : 'ts',
    format: 'esm',
    target: 'node22', // the project's one Node LTS (test/infra/node-version.test.ts)
    sourcemap: 'inline',
    sourcefile: file,
  });
  return { format: 'module', source: result.code, shortCircuit: true };
}
