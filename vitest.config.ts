import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "bench/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores on CI: keep workers bounded so server-per-file tests do not starve each other.
    maxWorkers: 2,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
