import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { SCAFFOLD_TEMPLATES, type ScaffoldAuth } from "../../src/tooling/scaffold.js";
import { repoRoot } from "./fixtures.js";
import { runFlowcap, tempTree } from "./cli.js";

/**
 * The end-to-end test of a scaffold template, shared by the test files that split the templates
 * between them (each template takes tens of seconds: split, two test workers run them at once).
 */

export const HTTP_FILES = ["src/models.ts", "src/api.ts", "src/resources.ts", "src/index.ts", "mock/server.ts", "test/connector.test.ts", "snapshots/spec.json", "snapshots/discover.json"];

/** What each template has besides package.json, README.md, test.flow.yaml and main.ts. */
const FILES: Record<string, string[]> = {
  native: ["src/models.ts", "src/api.ts", "src/resources.ts", "src/index.ts"],
  http: [...HTTP_FILES, "src/oauth.ts"],
  airbyte: ["src/models.ts", "runtime/source.py"],
  singer: ["src/models.ts", "src/resources.ts", "src/index.ts", "runtime/tap.py"],
};

/**
 * The templates whose connector is installed, tested, checked and bundled: each template once, the
 * http template with its richest auth (oauth2; the other auths are checked in-process below, which
 * keeps CI time sane). `http-oauth` is the http template with oauth2 under its older name.
 */
/** The templates that wrap a Python program. */
export const PYTHON_TEMPLATES = ["airbyte", "singer"];

export const available = SCAFFOLD_TEMPLATES.filter((t) => t !== "http-oauth" && existsSync(path.join(repoRoot, "templates", t)));
const AUTH: Partial<Record<string, ScaffoldAuth>> = { http: "oauth2" };

export function sh(command: string, cwd: string, timeoutMs = 240_000) {
  const result = spawnSync("sh", ["-c", command], { cwd, encoding: "utf8", timeout: timeoutMs, env: { ...process.env, CI: "1", NO_COLOR: "1" } });
  return { code: result.status, output: `${result.stdout}\n${result.stderr}` };
}

/** Scaffolds `template`, installs it against this checkout, runs its tests and `flowcap check`, and bundles it. */
export function itMakesAWorkingConnector(templates: string[]): void {
  it.each(templates)(
    "the %s template makes a connector that installs against this flowcap, passes its own tests and flowcap check, and bundles",
    async (template) => {
      const dir = path.join(tempTree(), `source-${template}-demo`);
      const auth = AUTH[template] ? ["--auth", AUTH[template]] : [];
      const created = await runFlowcap(["scaffold", `source-${template}-demo`, "--template", template, ...auth, "--dir", dir, "--flowcap", `file:${repoRoot}`]);
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
      // One crash trial: the template's own test above already ran the suite with two.
      const check = sh("npm run check -- --trials 1", dir);
      expect(check.code, check.output).toBe(0);
      expect(check.output).toMatch(/ 0 failed/);
      const bundle = sh("npm run bundle", dir);
      expect(bundle.code, bundle.output).toBe(0);
      expect(statSync(path.join(dir, `dist/source-${template}-demo.mjs`)).size).toBeGreaterThan(1000);
    },
    900_000,
  );
}
