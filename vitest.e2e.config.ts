import { defineConfig } from 'vitest/config';

/**
 * `npm run test:e2e`: the topology suite alone (test/e2e). The default `npm test` (vitest.config.ts, include
 * test/**\/*.test.ts) runs these files too, once, with everything else.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
