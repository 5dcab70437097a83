// Test projects: `unit` (pure code, no root needed) and `integration` (real sshd and kernel objects on the testbed).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

/** Integration tests that run load generators (iperf3, sockperf, launch timing) at full speed. */
const MEASUREMENT_FILES = [
  'tests/integration/workloads.test.ts',
  'tests/integration/experiment-runner.test.ts',
  'tests/integration/experiment-container-mode.test.ts',
  'tests/integration/experiment-scale.test.ts',
  'tests/integration/experiment-cli.test.ts',
  'tests/integration/launch.test.ts',
  'tests/integration/launch-control-planes.test.ts',
  'tests/integration/lab-api-experiments.test.ts',
  'tests/integration/cli-bundle-rerun.test.ts',
  'tests/integration/studies.test.ts',
  'tests/integration/fault-host-reboot.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src-main/**/*.test.ts', 'tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        plugins: [vue()],
        resolve: { alias: { '@contract': fileURLToPath(new URL('./src-main/contract', import.meta.url)), '@common': fileURLToPath(new URL('./src-main/common', import.meta.url)) } },
        test: {
          name: 'renderer',
          include: ['src-renderer/**/*.test.ts'],
          environment: 'happy-dom',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          exclude: MEASUREMENT_FILES,
          environment: 'node',
          // Each file brings up its own testbed; two at a time fit the 2-core machine.
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'measurement',
          // Tests that saturate the CPU with load generators and bound their waits: one file at a time, alone,
          // so a testbed starting next to them cannot starve them into a timeout (and their figures stay honest).
          include: MEASUREMENT_FILES,
          environment: 'node',
          maxWorkers: 1,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          // The console in a real browser (Debian Chromium) over the browser mode, with the real backend.
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          maxWorkers: 1,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
