// A cold `spec` loads only what answering it needs: a connector process starts for every spec,
// discover and validate Flow runs, so what it loads up front is paid each time. The schema
// validator (ajv), the HTTP client (undici), hashing (node:crypto) and V8's flags (node:v8,
// node:vm) load when first used, never for a spec. Checked on what the process really loaded:
// Node's list of its built-in modules, and the package files it resolved.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { spawnConnector } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";

const work = mkdtempSync(path.join(tmpdir(), "flowcap-cold-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `argv` with a preload that writes, at exit, the built-in modules and the files of node_modules it loaded. */
async function loadedBy(argv: string[], request: object, code = 0): Promise<{ builtins: string[]; packages: string[]; out: string }> {
  const report = path.join(work, `loaded-${Math.random().toString(36).slice(2)}.json`);
  const preload = path.join(work, "preload.cjs");
  writeFileSync(
    preload,
    `const { writeFileSync } = require("node:fs");
process.on("exit", () => writeFileSync(${JSON.stringify(report)}, JSON.stringify({ builtins: process.moduleLoadList, files: Object.keys(require.cache) })));`,
  );
  const run = spawnConnector([argv[0]!, "-r", preload, ...argv.slice(1)]);
  run.send(request);
  run.end();
  expect((await run.exit).code).toBe(code);
  const loaded = JSON.parse(readFileSync(report, "utf8")) as { builtins: string[]; files: string[] };
  return { builtins: loaded.builtins, packages: loaded.files.filter((f) => f.includes("node_modules")), out: run.stdout.lines.join("\n") };
}

it("a cold spec of source-hello-world loads no validator, HTTP client, hashing or V8 flags", async () => {
  const { builtins, packages, out } = await loadedBy([process.execPath, path.join(repoRoot, "dist/connectors/source-hello-world/main.js")], { spec: { connectorType: "IMAGE", config: {} } });
  expect(out).toContain('"spec"');
  for (const heavy of ["NativeModule crypto", "NativeModule v8", "NativeModule vm", "NativeModule http", "NativeModule https", "NativeModule child_process"]) {
    expect(builtins, heavy).not.toContain(heavy);
  }
  // (ajv's small runtime helpers are the precompiled request validators': those are not ajv.)
  expect(packages.filter((f) => /node_modules\/(ajv\/(?!dist\/runtime\/)|ajv-formats\/|undici\/)/.test(f))).toEqual([]);
});

it("a discover, which validates the config, loads the validator then (the check above can see it)", async () => {
  const { packages } = await loadedBy([process.execPath, path.join(repoRoot, "dist/connectors/source-hello-world/main.js")], { discover: { connectorType: "IMAGE", config: { rate: 0 } } }, 1);
  expect(packages.some((f) => f.includes("node_modules/ajv/dist/core.js"))).toBe(true);
});
