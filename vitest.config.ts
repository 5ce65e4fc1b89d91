import { defineConfig } from 'vitest/config';

/**
 * Pure logic: the engine and the scheduler (fakes, manual clock), and DataFrames run in one process
 * with DuckDB (test/sql). No server, no build needed.
 */
const UNIT = ['test/engine/**/*.test.ts', 'test/scheduler/**/*.test.ts', 'test/sql/**/*.test.ts'];
/** Unit files that load the built package from dist/ (so they run after `npm run build`). */
const NEEDS_BUILD = ['test/engine/module-loader.test.ts', 'test/engine/call-site-mapped.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share one Azurite and spawn executor processes; two cores here.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: UNIT,
          exclude: NEEDS_BUILD,
          // One module graph per worker instead of one per file: the import cost (43 s of 142 s
          // when measured) is paid once per worker. Safe because these files share no mutable module
          // state: no vi.mock/stubEnv/fake timers or process.env writes; the module-level state they
          // reach is a cache keyed by content (job modules by code hash, codecs by name, never
          // re-registered by a test) or the per-thread DuckDB instance, which hands each session a
          // fresh connection whose temp tables die with it, as it does for an executor thread's
          // tasks. See docs/decisions.md.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // Every other file, and the unit files that need dist/.
          exclude: [
            'test/scheduler/**',
            'test/sql/**',
            'test/engine/!(module-loader|call-site-mapped).test.ts',
          ],
          // One Azurite for these files, started by the same launcher as `stratus local`.
          globalSetup: ['test/global-setup.ts'],
          // As the unit project: one module graph per worker (imports 98 s → 19 s of the suite's
          // CPU). These files restore what they change in the process (process.env, NODE_OPTIONS),
          // use no vi.mock/stubEnv/fake timers, and start their fabrics, servers and processes in
          // hooks that stop them; what they share at module level are content-keyed caches (job
          // bundles, type checks) and Node's source-map switch, which only maps more frames.
          isolate: false,
        },
      },
    ],
  },
});
