import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // These tests start the connector as a process, several times per conformance run; on a
    // busy two-core CI machine that takes longer than vitest's 5-second default.
    testTimeout: 120_000,
  },
});
