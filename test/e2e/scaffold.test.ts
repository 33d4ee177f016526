import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { Connector } from "../../src/runtime/index.js";
import { createConnectorHarness } from "../../src/testing/index.js";
import { scaffoldConnector, type ScaffoldAuth } from "../../src/tooling/scaffold.js";
import { repoRoot } from "../helpers/fixtures.js";
import { runFlowcap, tempTree } from "../helpers/cli.js";
import { typeErrors } from "../helpers/readme.js";
import { available, HTTP_FILES, itMakesAWorkingConnector, PYTHON_TEMPLATES } from "../helpers/scaffoldTemplate.js";

describe("flowcap scaffold", () => {
  // The Python-wrapping templates' end-to-end tests are in scaffoldPython.test.ts.
  itMakesAWorkingConnector(available.filter((t) => !PYTHON_TEMPLATES.includes(t)));

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

  it("the singer template's README command for the tap by itself works as written", async () => {
    const dir = path.join(tempTree(), "source-tap-demo");
    const created = await runFlowcap(["scaffold", "source-tap-demo", "--template", "singer", "--dir", dir, "--flowcap", `file:${repoRoot}`]);
    expect(created.code, created.stderr).toBe(0);
    const command = /The tap by itself: `([^`]+)`/.exec(readFileSync(path.join(dir, "README.md"), "utf8"))?.[1];
    expect(command).toBe("python3 runtime/tap.py --config config.json --discover");
    const run = spawnSync("sh", ["-c", command!], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ streams: [expect.objectContaining({ tap_stream_id: "users" })] });
    // It holds the capture's settings, and stays out of git: it will hold credentials.
    expect(readFileSync(path.join(dir, ".gitignore"), "utf8")).toMatch(/^config\.json$/m);
  });

  it("refuses bad names, unknown templates and non-empty directories", async () => {
    const bad = await runFlowcap(["scaffold", "Source_X", "--dir", path.join(tempTree(), "x")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/"Source_X" is not a connector name: use lower case letters, digits and dashes/);
    const template = await runFlowcap(["scaffold", "source-x", "--template", "cobol"]);
    expect(template.code).toBe(2);
    expect(template.stderr).toMatch(/--template must be one of native, http, http-oauth, airbyte, singer/);
    const auth = await runFlowcap(["scaffold", "source-x", "--template", "http", "--auth", "cookie"]);
    expect(auth.code).toBe(2);
    expect(auth.stderr).toMatch(/--auth must be one of api-key, bearer, basic, oauth2/);
    const authless = await runFlowcap(["scaffold", "source-x", "--template", "native", "--auth", "bearer"]);
    expect(authless.code).toBe(2);
    expect(authless.stderr).toMatch(/--auth is for --template http/);
    const full = tempTree({ "keep.txt": "mine" });
    const occupied = await runFlowcap(["scaffold", "source-x", "--dir", full]);
    expect(occupied.code).toBe(1);
    expect(occupied.stderr).toMatch(/already exists and is not empty/);
  });

  it("the http-oauth template is the http template with --auth oauth2", async () => {
    const alias = await scaffoldConnector({ name: "source-same", template: "http-oauth", dir: path.join(tempTree(), "a"), flowcap: "file:x" });
    const http = await scaffoldConnector({ name: "source-same", template: "http", auth: "oauth2", dir: path.join(tempTree(), "b"), flowcap: "file:x" });
    expect(alias.files).toEqual(http.files);
    for (const file of http.files) expect(readFileSync(path.join(alias.dir, file), "utf8"), file).toBe(readFileSync(path.join(http.dir, file), "utf8"));
    await expect(scaffoldConnector({ name: "source-x", template: "http-oauth", auth: "basic", dir: path.join(tempTree(), "c") })).rejects.toThrow(/http-oauth template is the http template with --auth oauth2/);
  });

});

/**
 * The other auths of the http template, without an install each: the scaffolded sources
 * type-check against flowcap's (in one program, for time), and the connector, run in this process
 * (its `flowcap` imports are this repository's sources), backfills its mock API, authenticating as
 * the mock requires, with no credential in any log line.
 */
describe("the http template's other auths", () => {
  const AUTHS = ["api-key", "bearer", "basic"] as const;
  // Inside the repository, so that the type check finds vitest's types as the scaffold's install would.
  const dirOf = (auth: ScaffoldAuth) => path.join(repoRoot, "test/.tmp/scaffold", `source-${auth}-demo`);

  beforeAll(async () => {
    for (const auth of AUTHS) {
      rmSync(dirOf(auth), { recursive: true, force: true });
      const { files } = await scaffoldConnector({ name: `source-${auth}-demo`, template: "http", auth, resource: "orders", dir: dirOf(auth) });
      expect(files).toEqual(expect.arrayContaining(HTTP_FILES));
      expect(files).not.toContain("src/oauth.ts");
    }
  });

  it("type-check, tests included", () => {
    expect(typeErrors(AUTHS.flatMap((auth) => ["main.ts", "mock/server.ts", "test/connector.test.ts"].map((f) => path.join(dirOf(auth), f))))).toEqual([]);
  }, 120_000);

  it.each(AUTHS)("--auth %s: captures every record of its mock API in-process, authenticated, no credential logged", async (auth) => {
    const dir = dirOf(auth);
    const { connector } = (await import(pathToFileURL(path.join(dir, "src/index.ts")).href)) as { connector: Connector };
    const mockModule = (await import(pathToFileURL(path.join(dir, "mock/server.ts")).href)) as {
      startMockApi(port: number): Promise<{ config: Record<string, unknown>; server: { requests: { status: number }[] }; close(): Promise<void> }>;
      MOCK_RECORDS: number;
      MOCK_SECRETS: string[];
    };
    const mock = await mockModule.startMockApi(0);
    try {
      const logs: string[] = [];
      const harness = createConnectorHarness(connector, { config: mock.config, logLevel: "debug", onLog: (l) => void logs.push(JSON.stringify(l)) });
      const state = (s: Record<string, unknown>) => (s.bindingStateV1 as Record<string, Record<string, unknown>> | undefined)?.orders ?? {};
      const result = await harness.capture({ bindings: [{ resource: { name: "orders", interval: "1s" } }], until: ({ state: s, documents }) => documents.length >= mockModule.MOCK_RECORDS && !state(s).backfill });
      expect(new Set(result.documents.map(([, doc]) => doc.id)).size).toBe(mockModule.MOCK_RECORDS);
      expect(result.documents[0]).toEqual(["acmeCo/orders", expect.objectContaining({ id: "orders-00001" })]);
      // Every request carried the credentials: the mock answers 401 otherwise.
      expect(mock.server.requests.filter((r) => r.status !== 200)).toEqual([]);
      expect(logs.some((l) => l.includes("/v1/orders"))).toBe(true);
      for (const secret of mockModule.MOCK_SECRETS) expect(logs.filter((l) => l.includes(secret))).toEqual([]);
    } finally {
      await mock.close();
    }
  }, 180_000);
});
