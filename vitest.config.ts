import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One Azurite for the suite, started by the same launcher as `stratus local`.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share one Azurite and spawn executor processes; two cores here.
    maxWorkers: 2,
  },
});
