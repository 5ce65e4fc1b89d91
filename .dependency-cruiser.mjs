/**
 * The folder rules of stratus, checked by dependency-cruiser in `npm run lint` (so `.ci/run`
 * fails on a violation). Dependencies flow one way, driver → engine ← executor-function, with
 * the driver ↔ executor contract in a leaf both import (docs/decisions.md, "Folder rules").
 * Imports are read with the TypeScript compiler (`tsPreCompilationDeps`), so `import type`
 * edges count: a type-only cycle or a type-only reach across a boundary is the same design bug.
 * Paths below are relative to the repository root, as dependency-cruiser reports them.
 */

/** Every folder of ours; anything else resolved is an npm package or a Node builtin. */
const OURS = '^(contract|engine|duckdb|storage|driver|executor-function|test|bench|examples|infra)/';

/** The product folders: what ships in the package and runs on the driver or an executor. */
const PRODUCT = '^(contract|engine|duckdb|storage|driver|executor-function)/';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle, type-only ones included, means two files each own part of one concept: move the ' +
        'shared type or constant to the file that owns it (or a small file named for it). Runtime ' +
        'cycles also load modules half-initialised.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'contract-is-a-leaf',
      severity: 'error',
      comment:
        'contract/ is what the driver and the executors agree on (protocol, names, signing, errors); ' +
        'it imports only Node builtins and npm packages, so either side can depend on it without ' +
        'pulling in the other.',
      from: { path: '^contract/' },
      to: { path: OURS, pathNot: '^contract/' },
    },
    {
      name: 'engine-imports-engine-and-contract',
      severity: 'error',
      comment:
        'engine/ is the deterministic part shared by driver and executors (plans, operators, codecs): it ' +
        'imports only itself and contract/, never storage, the driver or the executor function.',
      from: { path: '^engine/' },
      to: { path: OURS, pathNot: '^(engine|contract)/' },
    },
    {
      name: 'engine-and-contract-have-no-azure-sdk',
      severity: 'error',
      comment:
        'engine/ does no I/O (DESIGN.md: "no Azure SDK imports"), nor does contract/, which engine ' +
        'imports; storage access lives in storage/, driver/ and executor-function/ behind small ' +
        'interfaces such as TaskIO.',
      from: { path: '^(engine|contract|duckdb)/' },
      to: { path: '(^|/)node_modules/@azure/' },
    },
    {
      name: 'duckdb-imports-engine-and-contract',
      severity: 'error',
      comment:
        'duckdb/ runs DataFrame fragments in the embedded DuckDB for both sides (the driver binds plans with ' +
        'it, executors run stage programs with it); it reads the plans and programs of engine/sql and local ' +
        'files only, so it imports engine/ and contract/, never storage, the driver or the executor function.',
      from: { path: '^duckdb/' },
      to: { path: OURS, pathNot: '^(duckdb|engine|contract)/' },
    },
    {
      name: 'duckdb-binding-only-in-duckdb',
      severity: 'error',
      comment:
        'The native DuckDB binding is loaded by duckdb/ alone (lazily, so only DataFrame work pays for it); ' +
        'the engine stays free of native code and the packaged function app ships the binding beside the ' +
        'bundle. Tests may use it directly for their single-process references, and examples (user code) ' +
        'to make their data on the driver.',
      from: { pathNot: '^(duckdb|test|bench|examples)/' },
      to: { path: '(^|/)node_modules/@duckdb/' },
    },
    {
      name: 'storage-imports-storage-contract-and-records',
      severity: 'error',
      comment:
        'storage/ wraps Blob and Queue access for both sides; besides contract/ it may read the record ' +
        'formats it splits input by (engine/records/), but never the driver, the executor function or the ' +
        'rest of the engine.',
      from: { path: '^storage/' },
      to: { path: OURS, pathNot: '^(storage|contract|engine/records)/' },
    },
    {
      name: 'driver-not-to-executor-function',
      severity: 'error',
      comment:
        'The driver and the executors are separate programs that meet only through contract/ and storage; ' +
        'the driver starts local executor hosts by path (contract/local-host-process.ts), never by import.',
      from: { path: '^driver/' },
      to: { path: '^executor-function/' },
    },
    {
      name: 'executor-function-not-to-driver',
      severity: 'error',
      comment:
        'The executor function app is deployed on its own; an import of driver code would ship the driver ' +
        '(CLI, scheduler, fabric) to every executor and couple the two sides beyond contract/.',
      from: { path: '^executor-function/' },
      to: { path: '^driver/' },
    },
    {
      name: 'commands-only-from-cli',
      severity: 'error',
      comment:
        'driver/commands/ is the CLI surface, reached from driver/cli-main.ts (the entry cli.ts loads) only; library code depending on it ' +
        'would turn the thin CLI into a layer the driver cannot do without. Tests import the logic from ' +
        'its subsystem, or run the built bin (test/helpers/dist.ts runBuiltCli).',
      from: { pathNot: '^(driver/cli-main\\.ts$|driver/commands/)' },
      to: { path: '^driver/commands/' },
    },
    {
      name: 'scheduler-not-to-fabric-or-commands',
      severity: 'error',
      comment:
        'The scheduler decides (jobs, stages, tasks, retries) over ports it is given; how executors are ' +
        'started (driver/fabric/) and the CLI (driver/commands/) must stay outside it, so it is ' +
        'testable with fakes.',
      from: { path: '^driver/scheduler/' },
      to: { path: '^driver/(fabric|commands)/' },
    },
    {
      name: 'testing-only-from-tests',
      severity: 'error',
      comment:
        'A testing/ folder holds test doubles (in-memory runner, request counter); product code using one ' +
        'would run a fake in production. Only test/, bench/ and other testing/ files import them.',
      from: { pathNot: '^(test|bench)/|/testing/' },
      to: { path: '(^|/)testing/' },
    },
    {
      name: 'nothing-imports-tests-or-benchmarks',
      severity: 'error',
      comment: 'test/ and bench/ sit at the top of the graph: nothing else may depend on them.',
      from: { pathNot: '^(test|bench)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'product-not-to-examples',
      severity: 'error',
      comment:
        'examples/ are user code that ships beside the package; the product reaches them only by path ' +
        '(stratus run examples/…), never by import.',
      from: { path: PRODUCT },
      to: { path: '^examples/' },
    },
    {
      name: 'examples-use-public-entry-points',
      severity: 'error',
      comment:
        'examples/ are what a new user copies, so they import only the public modules: `stratus` and ' +
        '`stratus/driver` (or their sources engine/index.ts and driver/index.ts) and each other.',
      from: { path: '^examples/' },
      to: { path: OURS, pathNot: '^(examples/|engine/index\\.ts$|driver/index\\.ts$)' },
    },
    {
      name: 'resolvable-in-product',
      severity: 'error',
      comment:
        'An import the checker cannot resolve escapes every rule above; product code imports its own files ' +
        'by relative path. One exception: the driver entry names the job-module types by package ' +
        "(`import type … from 'stratus'`) so that the published stratus/driver types point at the stratus entry.",
      from: { pathNot: '^(examples|test|bench)/' },
      to: { couldNotResolve: true, pathNot: '^stratus$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'product-not-to-own-package',
      severity: 'error',
      comment:
        'Product code imports its own files by relative path; the package name `stratus` resolves to ' +
        'the build output in dist/, which would bypass every rule above and load a second copy (a type-only ' +
        'import loads nothing: the driver entry uses one to name the job-module types by package).',
      from: { pathNot: '^(examples|test|bench)/' },
      to: { path: '^dist/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'resolvable-in-user-code',
      severity: 'error',
      comment:
        'Job modules, tests and benchmarks may import the package by its own name (`stratus`, ' +
        '`stratus/driver`), which resolves to dist/ only after a build (and is unresolved before); any ' +
        'other unresolved import escapes the rules.',
      from: { path: '^(examples|test|bench)/' },
      to: { couldNotResolve: true, pathNot: '^stratus(/driver)?$' },
    },
  ],
  options: {
    // Read imports with the TypeScript compiler, before it erases `import type`, so type-only
    // edges are checked like runtime ones.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // dist/ is reached only through the package's own name (`stratus`), once built: kept in the
    // graph (not excluded) so that product-not-to-own-package sees such an import, but not read.
    doNotFollow: { path: '(^|/)node_modules/|^dist/' },
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
