// Cold start: a connector process answering Flow's `spec` request and exiting, from process start
// to exit, against `node -e 0` (starting Node and doing nothing: the ceiling). source-hello-world
// runs three ways: as `flowcap bundle` makes it (one ES module, as the image runs it, with and
// without the source maps the image's entrypoint enables) and from `dist/` (tsc's output, a
// module per file, flowcap from node_modules).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SPEC = JSON.stringify({ spec: { connectorType: "IMAGE", config: {} } }) + "\n";

function answer(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], env: { PATH: process.env.PATH, LOG_LEVEL: "warn" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.stdin.end(argv[0] === process.execPath && argv[1] === "-e" ? undefined : SPEC);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${argv.join(" ")} exited ${code}: ${err.slice(-500)}`));
      if (argv[1] !== "-e" && !out.includes('"spec"')) return reject(new Error(`${argv.join(" ")} did not answer spec: ${out.slice(0, 200)}`));
      resolve();
    });
  });
}

export async function coldSpecCases() {
  const dir = mkdtempSync(path.join(tmpdir(), "flowcap-bench-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", cleanup);
  const bundle = path.join(dir, "source-hello-world.mjs");
  const built = spawnSync(process.execPath, [path.join(root, "dist/src/cli/main.js"), "bundle", "connectors/source-hello-world/main.ts", "-o", bundle], { cwd: root, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`bundle failed: ${built.stderr}`);
  return {
    id: "cold-spec",
    title: "Cold spec: start source-hello-world, answer spec, exit",
    runs: 21,
    baseline: { name: "node -e 0", fn: () => answer([process.execPath, "-e", "0"]) },
    candidates: [
      { name: "bundled (flowcap bundle)", fn: () => answer([process.execPath, bundle]) },
      { name: "bundled, node --enable-source-maps (the image's entrypoint)", fn: () => answer([process.execPath, "--enable-source-maps", bundle]) },
      { name: "dist/ (tsc output, flowcap from node_modules)", fn: () => answer([process.execPath, path.join(root, "dist/connectors/source-hello-world/main.js")]) },
    ],
    cleanup,
  };
}
