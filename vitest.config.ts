import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['lib/**/*.test.ts', 'test/**/*.test.ts', 'functions/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Most integration files spend their time waiting on other processes (git http-backend, the go command, servers
    // on loopback), not computing. Vitest's default of one worker less than the CPUs runs them one at a time on a
    // 2-CPU machine (CI's kind): 17.6 min there, 13.8–14.5 min with two workers.
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
  },
});
