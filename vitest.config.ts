import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: [
      // Tests run the TypeScript sources; connectors import the public entries (src/public/) by name.
      { find: /^flowcap$/, replacement: fileURLToPath(new URL("./src/public/index.ts", import.meta.url)) },
      { find: /^flowcap\/(.*)$/, replacement: fileURLToPath(new URL("./src/public/$1.ts", import.meta.url)) },
    ],
  },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "connectors/*/test/**/*.test.ts"],
    // test/.tmp holds what tests make (scaffolded connectors with tests of their own): not ours to run.
    exclude: ["**/node_modules/**", "**/dist/**", "test/.tmp/**"],
    // Generous: end-to-end tests start processes, and CI machines are shared (a test must not need a fast one).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One test file more than there are cores (vitest's default is one fewer): most of the suite
    // waits on processes it started (connectors, PostgreSQL, timers of the rate-limit tests), so
    // the extra file fills the cores they leave idle. On the 2-core machine: 389 s with three
    // files at a time, 523 s with two; the suite also passes with two CPU hogs beside it.
    maxWorkers: Math.max(3, availableParallelism() + 1),
    globalSetup: ["./test/helpers/globalSetup.ts"],
    typecheck: { enabled: true, include: ["src/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
  },
});
