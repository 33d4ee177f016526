import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./fixtures.js";

/**
 * End-to-end tests run the built connectors and CLI: build first (incremental, so cheap when
 * fresh), as `npm run build` does, the bin made executable (npm ci no longer builds: the package
 * builds on prepack, so a fresh clone's `npm ci && npm test` builds here).
 */
export default function setup(): void {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: "inherit" });
  chmodSync(path.join(repoRoot, "dist/src/cli/main.js"), 0o755);
}
