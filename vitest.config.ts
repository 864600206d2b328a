import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'shaders/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
