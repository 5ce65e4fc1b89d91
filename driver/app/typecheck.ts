/**
 * The type check `stratus run` and `stratus explain` do before anything starts. The TypeScript
 * loader (ts-hooks.ts) and the bundler strip types without checking them, so a type error would
 * otherwise surface on an executor, four attempts later. This is `tsc --noEmit` over one module
 * and what it imports, with the TypeScript compiler API:
 *
 * - the options of the user's tsconfig.json, the first found upward from the module; only the
 *   module (and the tsconfig's own `.d.ts` files, for ambient declarations) are roots, so a big
 *   project is not checked whole. Without a tsconfig: strict, and the module format stratus
 *   loads it in — always ESM — resolved as Node does (NodeNext) where the package is ESM, as a
 *   bundler does elsewhere (NodeNext would call such a file CommonJS, which stratus never does);
 * - the compiler of the user's project when it has one (its verdict is the one their editor and
 *   tsc give), else the one stratus depends on;
 * - `stratus` resolved as the module's own imports resolve it: from node_modules in a user's
 *   project, by the package's self-reference inside the stratus repository;
 * - a pass remembered by content (typecheck-cache.ts), so running an unchanged module again
 *   costs a few file hashes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TS from 'typescript';
import { StratusError } from '../../contract/errors.js';
import { packageRoot } from '../../contract/package-root.js';
import { resolveModulePath } from './bundler.js';
import { DEFAULT_TYPECHECK_CACHE_DIR, TypeCheckCache, type TypeCheckKey } from './typecheck-cache.js';

const TS_FILE = /\.(?:ts|mts|cts|tsx)$/;

/** What the type check found. */
export interface TypeCheckVerdict {
  /** True when the compiler reported no error (a JavaScript module is not checked: true). */
  ok: boolean;
  /** How the verdict was reached: the compiler ran, a remembered pass held, or the module is not TypeScript. */
  source: 'compiler' | 'cache' | 'not-typescript';
  /** Errors reported. */
  errorCount: number;
  /** The diagnostics as tsc prints them (`file:line:col - error TS2322: …`), one per line; '' when none. */
  report: string;
}

/** Where the type check looks and remembers. */
export interface TypeCheckOptions {
  /** Folder of remembered passes (default `.stratus/typecheck-cache` under the working folder). */
  cacheDir?: string;
  /** Folder the report's file names are relative to (default: the working folder, as tsc does). */
  cwd?: string;
}

/** A module that does not type-check; `message` is the compiler's report and nothing else. Not retryable. */
export class TypeCheckError extends StratusError {
  constructor(
    readonly report: string,
    readonly errorCount: number,
  ) {
    super('TYPECHECK_FAILED', report);
    this.name = 'TypeCheckError';
  }
}

/** The first tsconfig.json in `dir` or a folder above it. */
function findTsconfig(dir: string): string | undefined {
  for (let current = dir; ; current = path.dirname(current)) {
    const candidate = path.join(current, 'tsconfig.json');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(current) === current) return undefined;
  }
}

/** True when Node treats `file` as ESM by its package scope (nearest package.json `"type": "module"`). */
function inEsmPackage(file: string): boolean {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false; // a package.json that does not parse: Node would refuse it, the compiler says so
      }
    }
    if (path.dirname(dir) === dir) return false;
  }
}

/** The package.json of the compiler to use: the user's project's, else the one stratus depends on. */
function compilerManifest(moduleFile: string): string {
  for (const from of [moduleFile, fileURLToPath(import.meta.url)]) {
    try {
      return createRequire(from).resolve('typescript/package.json');
    } catch {
      // not resolvable from here: try the next place
    }
  }
  throw new StratusError(
    'TYPECHECK_UNAVAILABLE',
    `the typescript package is not installed where ${moduleFile} or stratus can load it: install it (npm i -D typescript) or pass --no-typecheck`,
  );
}

/**
 * The source folders of the stratus package itself (`contract/`, `engine/`… as its package.json
 * ships them built under `dist/`), each ending in a separator. They hold TypeScript only in a
 * checkout of stratus, where the package's self-reference resolves to them; an installed package
 * has declarations there (`dist/`), which skipLibCheck already skips.
 */
export function stratusSourceDirs(): string[] {
  const root = packageRoot();
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files?: string[] };
  return (manifest.files ?? [])
    .filter((entry) => entry.startsWith('dist/'))
    .map((entry) => path.join(root, entry.slice('dist/'.length)) + path.sep);
}

/** Compiler options, roots and config problems for `moduleFile`, from `tsconfig` or the defaults. */
function programSetup(ts: typeof TS, moduleFile: string, tsconfig: string | undefined) {
  if (!tsconfig) {
    const esm = moduleFile.endsWith('.mts') || inEsmPackage(moduleFile);
    const options: TS.CompilerOptions = {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts'],
      module: esm ? ts.ModuleKind.NodeNext : ts.ModuleKind.ESNext,
      moduleResolution: esm ? ts.ModuleResolutionKind.NodeNext : ts.ModuleResolutionKind.Bundler,
      resolveJsonModule: true,
      esModuleInterop: true,
      skipLibCheck: true,
      noEmit: true,
    };
    return { options, rootNames: [moduleFile], configFiles: [], configDiagnostics: [] };
  }
  const json = ts.readJsonConfigFile(tsconfig, ts.sys.readFile);
  const parsed = ts.parseJsonSourceFileConfigFileContent(
    json,
    ts.sys,
    path.dirname(tsconfig),
    undefined,
    tsconfig,
  );
  const options: TS.CompilerOptions = { ...parsed.options, noEmit: true };
  // Nothing is emitted, so build-mode settings have nothing to do (composite would even refuse noEmit).
  delete options.composite;
  delete options.incremental;
  delete options.tsBuildInfoFile;
  return {
    options,
    rootNames: [moduleFile, ...parsed.fileNames.filter((f) => f.endsWith('.d.ts') && f !== moduleFile)],
    configFiles: [tsconfig, ...(json.extendedSourceFiles ?? [])],
    // The tsconfig's include may match nothing: the module is the root here, so that is no error.
    configDiagnostics: parsed.errors.filter((d) => d.code !== 18003),
  };
}

/** One diagnostic as tsc prints it without --pretty, but in the `file:line:col - ` form editors link. */
function formatDiagnostic(ts: typeof TS, diagnostic: TS.Diagnostic, cwd: string): string {
  const category = ts.DiagnosticCategory[diagnostic.category].toLowerCase();
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  let where = '';
  if (diagnostic.file && diagnostic.start !== undefined) {
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const file = path.relative(cwd, diagnostic.file.fileName).split(path.sep).join('/');
    where = `${file}:${line + 1}:${character + 1} - `;
  }
  return `${where}${category} TS${diagnostic.code}: ${message}`;
}

function stratusVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
}

/**
 * Type-check the module at `modulePath` (a job module or a driver script) and what it imports.
 * A JavaScript module is not checked. Throws only when the module or a compiler is missing.
 */
export function typeCheckModule(modulePath: string, options: TypeCheckOptions = {}): TypeCheckVerdict {
  const cwd = options.cwd ?? process.cwd();
  const moduleFile = resolveModulePath(modulePath, cwd);
  if (!TS_FILE.test(moduleFile)) return { ok: true, source: 'not-typescript', errorCount: 0, report: '' };
  const tsconfig = findTsconfig(path.dirname(moduleFile));
  const manifest = compilerManifest(moduleFile);
  const key: TypeCheckKey = {
    module: moduleFile,
    tsconfig,
    tsconfigText: tsconfig ? readFileSync(tsconfig, 'utf8') : undefined,
    compiler: manifest,
    stratusVersion: stratusVersion(),
  };
  const cache = new TypeCheckCache(path.resolve(cwd, options.cacheDir ?? DEFAULT_TYPECHECK_CACHE_DIR));
  if (cache.holdsPass(key)) return { ok: true, source: 'cache', errorCount: 0, report: '' };

  const compilerDir = path.dirname(manifest);
  const ts = createRequire(manifest)(compilerDir) as typeof TS;
  const setup = programSetup(ts, moduleFile, tsconfig);
  const host = ts.createCompilerHost(setup.options);
  // Without a tsconfig, automatic @types come from the module's project, not the working folder.
  if (!tsconfig) host.getCurrentDirectory = () => path.dirname(moduleFile);
  // Every file the compiler reads (sources, declarations, the package.json files that steer
  // resolution) decides the verdict; the compiler's own lib files are keyed by its manifest.
  const read = new Set<string>();
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => {
    const text = readFile(file);
    if (text !== undefined && !path.resolve(file).startsWith(compilerDir + path.sep))
      read.add(path.resolve(file));
    return text;
  };
  const program = ts.createProgram({ rootNames: setup.rootNames, options: setup.options, host });
  // What `tsc --noEmit` reports, file by file, except for the stratus package's own sources: in a
  // checkout of stratus its self-reference resolves to them, and its build checks them.
  const own = stratusSourceDirs();
  const diagnostics = ts.sortAndDeduplicateDiagnostics([
    ...setup.configDiagnostics,
    ...program
      .getSourceFiles()
      .filter((file) => !own.some((dir) => path.resolve(file.fileName).startsWith(dir)))
      .flatMap((file) => ts.getPreEmitDiagnostics(program, file)),
  ]);
  const errorCount = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
  if (errorCount === 0) cache.recordPass(key, [...read, ...setup.configFiles, manifest]);
  const report = diagnostics.map((d) => `${formatDiagnostic(ts, d, cwd)}\n`).join('');
  return { ok: errorCount === 0, source: 'compiler', errorCount, report };
}

/** Type-check `modulePath` before a run or an explanation; throws TypeCheckError with tsc's report when it fails. */
export function assertModuleTypeChecks(modulePath: string, options: TypeCheckOptions = {}): void {
  const verdict = typeCheckModule(modulePath, options);
  if (!verdict.ok) throw new TypeCheckError(verdict.report, verdict.errorCount);
}
