import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

const PACK_TESTS = ['test/unit/pack-*.test.ts'];

export default defineConfig({
  plugins: [vue()],
  test: {
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2-core machines: CPU-heavy tests (tfjs) fight each other when run fully in parallel.
    maxWorkers: 2,
    // expect.poll's 1 s default is too short on a loaded 2-core machine (UI updates wait for CPU-bound work).
    expect: { poll: { timeout: 15_000 } },
    // The JSON report lets .ci/run print one plain "N passed, N failed, N skipped" line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'tests',
          include: ['test/unit/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: PACK_TESTS,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Packing copies out/, which the e2e tests rebuild when renderer sources changed: pack afterwards.
        extends: true,
        test: { name: 'pack', include: PACK_TESTS, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
