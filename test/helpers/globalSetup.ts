import { execFileSync } from "node:child_process";
import { repoRoot } from "./fixtures.js";

/**
 * End-to-end tests run the built connectors and CLI: build first (incremental, so cheap when
 * fresh). `npm ci` does not build (the package builds on prepack), so on a fresh clone
 * `npm ci && npm test` builds here.
 */
export default function setup(): void {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: "inherit" });
}
