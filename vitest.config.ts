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
    // Never print the console output of passing tests: stages log JSON on purpose. That also hides
    // notices printed while a file is collected, so a suite that skips puts its reason in its title
    // (test/helpers/skip-notice.ts) and this reporter lists those after the run.
    silent: 'passed-only',
    reporters: ['default', './test/helpers/skip-summary-reporter.ts'],
    // The development and CI machines run Node 20; the SDK's notice that future versions need
    // Node 22 (the Lambda runtime is nodejs22.x) would otherwise repeat in every test process.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
