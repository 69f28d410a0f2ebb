import { defineConfig } from 'vitest/config';

// One configuration for every suite: unit (pure, milliseconds), integration (real local
// servers on 127.0.0.1) and conformance (../shared/vectors). `npm test` runs them all.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Never print the console output of passing tests: stages log JSON on purpose.
    silent: 'passed-only',
  },
});
