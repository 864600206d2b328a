import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'shaders/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    // Builds lib/ first when the sources are newer (the CLI and package tests run the built bundle).
    globalSetup: ['test/global-setup.ts'],
  },
});
