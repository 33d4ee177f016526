import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { spawnConnector } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";
import { tempTree } from "../helpers/cli.js";

/**
 * flowcap as its users get it: `npm pack`ed, then installed into an empty project without dev
 * dependencies, so nothing from this repository's node_modules can hide a missing dependency.
 */

function sh(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 180_000, env: { ...process.env, NO_COLOR: "1" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, output: `${result.stdout}\n${result.stderr}` };
}

/** npm's messages for a registry it cannot reach, and for a package missing from its cache when offline. */
const NO_NETWORK = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b/;
const NOT_CACHED = /\bENOTCACHED\b/;

/**
 * Installs the tarball with its production dependencies: from the registry (the npm cache
 * first), or, with no registry, from the cache alone. Returns false only when neither has them.
 */
function installWithoutDevDependencies(tarball: string, project: string): boolean {
  const args = ["install", "--omit=dev", "--no-audit", "--no-fund", "--no-save"];
  const online = sh("npm", [...args, "--prefer-offline", tarball], project);
  if (online.code === 0) return true;
  if (!NO_NETWORK.test(online.output)) throw new Error(`npm install of the packed flowcap failed:\n${online.output}`);
  const offline = sh("npm", [...args, "--offline", tarball], project);
  if (offline.code === 0) return true;
  if (NOT_CACHED.test(offline.output)) return false;
  throw new Error(`npm install --offline of the packed flowcap failed:\n${offline.output}`);
}

let project = "";
let tarball = "";
let installed = false;

beforeAll(() => {
  const packs = tempTree();
  // --ignore-scripts: the global setup has just built dist/, so `prepare` would only rebuild it.
  const pack = sh("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", packs], repoRoot);
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`);
  tarball = path.join(packs, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
  project = tempTree({ "package.json": JSON.stringify({ name: "uses-flowcap", private: true }) });
  installed = installWithoutDevDependencies(tarball, project);
  if (!installed) {
    const message = "the npm registry is unreachable and the npm cache lacks flowcap's dependencies: cannot install the packed flowcap";
    if (process.env.CI) throw new Error(message);
    process.stderr.write(`\n!!! SKIPPING the packed-install tests: ${message} !!!\n\n`);
  }
}, 300_000);

function flowcap(args: string[]) {
  return sh(process.execPath, [path.join(project, "node_modules/flowcap/dist/src/cli/main.js"), ...args], project);
}

describe("flowcap packed and installed without dev dependencies", () => {
  it("answers --help", ({ skip }) => {
    if (!installed) skip();
    const run = flowcap(["--help"]);
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/Usage: flowcap <command>/);
  });

  it("scaffolds a connector that depends on the installed tarball, and bundles it into a file that answers spec", async ({ skip }) => {
    if (!installed) skip();
    const scaffold = flowcap(["scaffold", "source-packed"]);
    expect(scaffold.code, scaffold.output).toBe(0);
    const dir = path.join(project, "connectors/source-packed");
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    // Not `^0.1.0`: flowcap is not on a registry; this install came from the tarball.
    expect(pkg.dependencies.flowcap).toBe(`file:${path.relative(dir, tarball)}`);

    const out = path.join(project, "packed.mjs");
    const bundle = flowcap(["bundle", "connectors/source-packed/main.ts", "-o", out]);
    expect(bundle.code, bundle.output).toBe(0);
    const child = spawnConnector([process.execPath, out], { cwd: project });
    child.send({ spec: { connectorType: "IMAGE", config: {} } });
    child.end();
    expect((await child.exit).code, child.stderr.lines.join("\n")).toBe(0);
    expect(child.stdout.json[0]).toMatchObject({ spec: { protocol: 3032023 } });
  });

  it("without esbuild, still scaffolds, and `flowcap bundle` says how to install it", ({ skip }) => {
    if (!installed) skip();
    rmSync(path.join(project, "node_modules/esbuild"), { recursive: true, force: true });
    const scaffold = flowcap(["scaffold", "source-no-esbuild"]);
    expect(scaffold.code, scaffold.output).toBe(0);
    expect(existsSync(path.join(project, "connectors/source-no-esbuild/main.ts"))).toBe(true);
    writeFileSync(path.join(project, "main.mjs"), "export {};\n");
    const bundle = flowcap(["bundle", "main.mjs", "-o", path.join(project, "x.mjs")]);
    expect(bundle.code).toBe(1);
    expect(bundle.stderr).toMatch(/esbuild is not installed .*npm install esbuild/);
    expect(bundle.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND/);
  });
});
