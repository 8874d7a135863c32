import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Integration suites start real daemons; keep them from fighting over the 2 cores.
    fileParallelism: true,
    pool: 'forks',
  },
});
