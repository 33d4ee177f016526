import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { spawnConnector } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";
import { tempTree } from "../helpers/cli.js";

/**
 * flowcap as its users get it: `npm pack`ed, then installed into an empty project without dev
 * dependencies, so nothing from this repository's node_modules can hide a missing dependency.
 */

function sh(command: string, args: string[], cwd: string, timeoutMs = 180_000) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: timeoutMs, env: { ...process.env, NO_COLOR: "1" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, output: `${result.stdout}\n${result.stderr}` };
}

/** npm's messages for a registry it cannot reach, and for a package missing from its cache when offline. */
const NO_NETWORK = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b/;
const NOT_CACHED = /\bENOTCACHED\b/;

/**
 * `npm install <args>` in `cwd`: from the registry (the npm cache first), or, with no registry,
 * from the cache alone. Returns false only when neither has the packages.
 */
function npmInstall(args: string[], cwd: string): boolean {
  const common = ["install", "--no-audit", "--no-fund", ...args];
  const online = sh("npm", [...common, "--prefer-offline"], cwd, 300_000);
  if (online.code === 0) return true;
  if (!NO_NETWORK.test(online.output)) throw new Error(`npm install ${args.join(" ")} failed in ${cwd}:\n${online.output}`);
  const offline = sh("npm", [...common, "--offline"], cwd, 300_000);
  if (offline.code === 0) return true;
  if (NOT_CACHED.test(offline.output)) return false;
  throw new Error(`npm install --offline ${args.join(" ")} failed in ${cwd}:\n${offline.output}`);
}

let project = "";
let tarball = "";
let files: string[] = [];
let installed = false;

beforeAll(() => {
  const packs = tempTree();
  // --ignore-scripts: the global setup has just built dist/, so `prepack` would only rebuild it.
  const pack = sh("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", packs], repoRoot);
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`);
  const packed = (JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
  tarball = path.join(packs, packed.filename);
  files = packed.files.map((f) => f.path);
  project = tempTree({ "package.json": JSON.stringify({ name: "uses-flowcap", private: true }) });
  installed = npmInstall(["--omit=dev", "--no-save", tarball], project);
  if (!installed) {
    const message = "the npm registry is unreachable and the npm cache lacks flowcap's dependencies: cannot install the packed flowcap";
    if (process.env.CI) throw new Error(message);
    process.stderr.write(`\n!!! SKIPPING the packed-install tests: ${message} !!!\n\n`);
  }
}, 400_000);

/** The installed flowcap's bin, as `npx` finds it in the project. */
function npx(args: string[], cwd = project) {
  return sh("npx", ["--no-install", ...args], cwd);
}

describe("the flowcap package", () => {
  it("is publishable: not private, licensed as its LICENSE says, with its repository, and built on prepack", () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as Record<string, unknown> & { scripts: Record<string, string> };
    expect(pkg.private).toBeUndefined();
    expect(pkg.license).toBe("Apache-2.0");
    expect(readFileSync(path.join(repoRoot, "LICENSE"), "utf8")).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004\n/);
    expect(files).toContain("LICENSE");
    expect(pkg.repository).toEqual({ type: "git", url: "git+https://github.com/flowcap/flowcap.git" });
    expect(pkg.homepage).toBe("https://github.com/flowcap/flowcap#readme");
    expect(pkg.bugs).toEqual({ url: "https://github.com/flowcap/flowcap/issues" });
    // Built when packed, not on every install of the repository (`npm start` and the tests build).
    expect(pkg.scripts.prepare).toBeUndefined();
    expect(pkg.scripts.prepack).toBe("npm run build");
    expect(pkg.scripts.start).toMatch(/^npm run build && /);
  });

  it("holds no test files, and a source for every source map it ships", () => {
    expect(files.filter((f) => !f.startsWith("templates/") && /(\.test\.|\.test-d\.|(^|\/)test\/)/.test(f))).toEqual([]);
    const shipped = new Set(files);
    const maps = files.filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(100);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(path.join(repoRoot, map), "utf8")) as { sources: string[] };
      for (const source of sources) expect(shipped.has(path.posix.normalize(path.posix.join(path.posix.dirname(map), source))), `${map} points at ${source}`).toBe(true);
    }
  });

  it("leaves esbuild out of a plain install: an optional peer, needed only by flowcap bundle", ({ skip }) => {
    if (!installed) skip();
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { dependencies: Record<string, string>; peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }> };
    expect(pkg.dependencies.esbuild).toBeUndefined();
    expect(pkg.peerDependencies.esbuild).toBeDefined();
    expect(pkg.peerDependenciesMeta.esbuild?.optional).toBe(true);
    expect(existsSync(path.join(project, "node_modules/esbuild"))).toBe(false);
  });
});

describe("flowcap packed and installed without dev dependencies", () => {
  it("answers npx flowcap --version, and bare npx flowcap with its usage on stderr", ({ skip }) => {
    if (!installed) skip();
    const version = npx(["flowcap", "--version"]);
    expect(version.code, version.output).toBe(0);
    expect(version.stdout).toBe("0.1.0\n");
    const bare = npx(["flowcap"]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toMatch(/Usage: flowcap <command>/);
  });

  it("without esbuild, still scaffolds, and `flowcap bundle` says how to install it", ({ skip }) => {
    if (!installed) skip();
    const scaffold = npx(["flowcap", "scaffold", "source-no-esbuild"]);
    expect(scaffold.code, scaffold.output).toBe(0);
    expect(existsSync(path.join(project, "connectors/source-no-esbuild/main.ts"))).toBe(true);
    writeFileSync(path.join(project, "main.mjs"), "export {};\n");
    const bundle = npx(["flowcap", "bundle", "main.mjs", "-o", path.join(project, "x.mjs")]);
    expect(bundle.code).toBe(1);
    expect(bundle.stderr).toMatch(/esbuild is not installed .*npm install esbuild/);
    expect(bundle.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND/);
  });

  it("scaffolds a connector that installs against the tarball, builds, previews and bundles", async ({ skip }) => {
    if (!installed) skip();
    const scaffold = npx(["flowcap", "scaffold", "source-packed"]);
    expect(scaffold.code, scaffold.output).toBe(0);
    const dir = path.join(project, "connectors/source-packed");
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    // Not `^0.1.0`: this flowcap came from the tarball.
    expect(pkg.dependencies.flowcap).toBe(`file:${path.relative(dir, tarball)}`);
    expect(pkg.devDependencies.esbuild).toBeDefined(); // its `npm run bundle` needs it
    if (!npmInstall([], dir)) return skip();

    const build = sh("npm", ["run", "build"], dir);
    expect(build.code, build.output).toBe(0);
    const preview = npx(["flowcap", "preview", "--source", "test.flow.yaml", "--sessions", "1"], dir);
    expect(preview.code, preview.output).toBe(0);
    const rows = preview.stdout.split("\n").filter(Boolean);
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.parse(rows[0]!)).toEqual(["acmeCo/events", expect.objectContaining({ _meta: expect.objectContaining({ uuid: "DocUUIDPlaceholder-329Bb50aa48EAa9ef" }) })]);

    const bundle = sh("npm", ["run", "bundle"], dir);
    expect(bundle.code, bundle.output).toBe(0);
    const child = spawnConnector([process.execPath, path.join(dir, "dist/source-packed.mjs")], { cwd: project });
    child.send({ spec: { connectorType: "IMAGE", config: {} } });
    child.end();
    expect((await child.exit).code, child.stderr.lines.join("\n")).toBe(0);
    expect(child.stdout.json[0]).toMatchObject({ spec: { protocol: 3032023 } });
  }, 600_000);
});
