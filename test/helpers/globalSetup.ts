import { execFileSync } from "node:child_process";
import { repoRoot } from "./fixtures.js";

/** End-to-end tests run the built connectors and CLI: build first (incremental, so cheap when fresh). */
export default function setup(): void {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: "inherit" });
}
