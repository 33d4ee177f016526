import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SCAFFOLD_TEMPLATES } from "../../src/tooling/index.js";
import { repoRoot } from "../helpers/fixtures.js";
import { runFlowcap, tempTree } from "../helpers/cli.js";

/** What each template has besides package.json, README.md, test.flow.yaml and main.ts. */
const FILES: Record<string, string[]> = {
  native: ["src/models.ts", "src/api.ts", "src/resources.ts", "src/index.ts"],
  "http-oauth": ["src/oauth.ts", "src/models.ts", "src/api.ts", "src/resources.ts", "src/index.ts", "mock/server.mjs"],
  airbyte: ["src/models.ts", "runtime/source.py"],
  singer: ["src/models.ts", "src/resources.ts", "src/index.ts", "runtime/tap.py"],
};

const available = SCAFFOLD_TEMPLATES.filter((t) => existsSync(path.join(repoRoot, "templates", t)));

function sh(command: string, cwd: string, timeoutMs = 240_000) {
  const result = spawnSync("sh", ["-c", command], { cwd, encoding: "utf8", timeout: timeoutMs, env: { ...process.env, CI: "1", NO_COLOR: "1" } });
  return { code: result.status, output: `${result.stdout}\n${result.stderr}` };
}

describe("flowcap scaffold", () => {
  it.each(available)(
    "the %s template makes a connector that installs against this flowcap, passes its own tests and flowcap check, and bundles",
    async (template) => {
      const dir = path.join(tempTree(), `source-${template}-demo`);
      const created = await runFlowcap(["scaffold", `source-${template}-demo`, "--template", template, "--dir", dir, "--flowcap", `file:${repoRoot}`]);
      expect(created.code, created.stderr).toBe(0);
      for (const file of ["package.json", "README.md", "test.flow.yaml", "main.ts", ...(FILES[template] ?? [])]) {
        expect(existsSync(path.join(dir, file)), file).toBe(true);
      }
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { scripts: Record<string, string> };
      expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(["build", "test", "start", "check", "bundle"]));
      expect(readFileSync(path.join(dir, "README.md"), "utf8")).toMatch(/## Configure[\s\S]*## Run it locally/);

      const install = sh("npm install --no-audit --no-fund --prefer-offline", dir);
      expect(install.code, install.output).toBe(0);
      const test = sh("npm test", dir);
      expect(test.code, test.output).toBe(0);
      expect(test.output).toMatch(/Tests\s+\d+ passed/);
      // `npm run check` is flowcap check on test.flow.yaml (with the template's stand-in API, if it has one).
      const check = sh("npm run check", dir);
      expect(check.code, check.output).toBe(0);
      expect(check.output).toMatch(/ 0 failed/);
      const bundle = sh("npm run bundle", dir);
      expect(bundle.code, bundle.output).toBe(0);
      expect(statSync(path.join(dir, `dist/source-${template}-demo.mjs`)).size).toBeGreaterThan(1000);
    },
    900_000,
  );

  it("by default depends on the flowcap it runs from (this checkout, not a registry) by a relative file: path", async () => {
    const dir = path.join(tempTree(), "source-local");
    const created = await runFlowcap(["scaffold", "source-local", "--dir", dir]);
    expect(created.code, created.stderr).toBe(0);
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.flowcap).toBe(`file:${path.relative(dir, repoRoot)}`);
    expect(created.stdout).toContain(`flowcap dependency: file:${path.relative(dir, repoRoot)}`);
  });

  it("into connectors/<name> of a repository with a bundle script per connector (as this one), adds the new one's", async () => {
    const root = tempTree({
      "package.json": JSON.stringify({ name: "acme", scripts: { "bundle:source-a": "npm run build && node scripts/bundle-connectors.mjs source-a" } }, null, 2) + "\n",
    });
    mkdirSync(path.join(root, "connectors"));
    const created = await runFlowcap(["scaffold", "source-new"], { cwd: root });
    expect(created.code, created.stderr).toBe(0);
    expect(existsSync(path.join(root, "connectors/source-new/main.ts"))).toBe(true);
    const scripts = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts["bundle:source-new"]).toBe("npm run build && node scripts/bundle-connectors.mjs source-new");
    expect(created.stdout).toContain("added the script bundle:source-new to package.json");
  });

  it("refuses bad names, unknown templates and non-empty directories", async () => {
    const bad = await runFlowcap(["scaffold", "Source_X", "--dir", path.join(tempTree(), "x")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/"Source_X" is not a connector name: use lower case letters, digits and dashes/);
    const template = await runFlowcap(["scaffold", "source-x", "--template", "cobol"]);
    expect(template.code).toBe(2);
    expect(template.stderr).toMatch(/--template must be one of native, http-oauth, airbyte, singer/);
    const full = tempTree({ "keep.txt": "mine" });
    const occupied = await runFlowcap(["scaffold", "source-x", "--dir", full]);
    expect(occupied.code).toBe(1);
    expect(occupied.stderr).toMatch(/already exists and is not empty/);
  });
});
