#!/usr/bin/env node
// Generates src/protocol/generated/ from schemas/: the wire types (json-schema-to-typescript),
// the bundled schemas (for the codec's field tables) and the request/response validators
// (ajv standalone code, so a cold `spec` does not pay to compile them).
//
//   node scripts/gen.mjs          write the files
//   node scripts/gen.mjs --check  exit 1 if any file differs from what it would write
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { generateWireFiles } from "./wire.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(root, "src/protocol/generated");
const check = process.argv.includes("--check");

const files = await generateWireFiles(path.join(root, "schemas"));
let stale = [];
for (const [name, text] of Object.entries(files)) {
  const target = path.join(outDir, name);
  const current = await readFile(target, "utf8").catch(() => null);
  if (current === text) continue;
  if (check) stale.push(path.relative(root, target));
  else {
    await mkdir(outDir, { recursive: true });
    await writeFile(target, text);
    process.stderr.write(`wrote ${path.relative(root, target)}\n`);
  }
}
if (stale.length) {
  process.stderr.write(`stale generated files (run \`npm run gen\`): ${stale.join(", ")}\n`);
  process.exit(1);
}
