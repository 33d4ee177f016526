#!/usr/bin/env node
// Bundles connectors into dist/bundles/<name>.mjs with `flowcap bundle`:
//   node scripts/bundle-connectors.mjs            every connector in connectors/
//   node scripts/bundle-connectors.mjs <name>...  only these
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const names = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(path.join(root, "connectors")).filter((n) => existsSync(path.join(root, "connectors", n, "main.ts")));
let failed = 0;
for (const name of names) {
  const entry = path.join("connectors", name, "main.ts");
  if (!existsSync(path.join(root, entry))) {
    process.stderr.write(`no connector ${name} (${entry} is missing)\n`);
    failed++;
    continue;
  }
  const result = spawnSync(process.execPath, [path.join(root, "dist/src/cli/main.js"), "bundle", entry, "-o", path.join("dist/bundles", `${name}.mjs`)], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
