import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../test/helpers/fixtures.js";
import { loadCatalog, selectCapture } from "./catalog.js";
import { parseDurationSeconds } from "./duration.js";

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "flowcap-catalog-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe("loadCatalog", () => {
  it("reads the project's default catalog as flowctl lays it out", async () => {
    const catalog = await loadCatalog(path.join(repoRoot, "test.flow.yaml"));
    const capture = selectCapture(catalog);
    expect(capture.name).toBe("acmeCo/source-hello-world");
    expect(capture.endpoint).toEqual({
      kind: "local",
      command: ["node", "dist/connectors/source-hello-world/main.js"],
      config: { rate: 5 },
      env: {},
      cwd: repoRoot,
      protobuf: false,
    });
    expect(capture.bindings).toEqual([{ resource: { name: "greetings" }, target: "acmeCo/greetings", disable: false, backfill: 0 }]);
    expect(capture.intervalSeconds).toBe(180);
    const collection = catalog.collections.get("acmeCo/greetings")!;
    expect(collection.key).toEqual(["/count"]);
    expect(collection.schemaFile).toBe(path.join(repoRoot, "acmeCo/greetings.schema.yaml"));
    expect(collection.writeSchema).toMatchObject({ type: "object", required: ["count", "ts", "message"] });
    expect(catalog.files).toEqual([path.join(repoRoot, "test.flow.yaml"), path.join(repoRoot, "acmeCo/flow.yaml")]);
  });

  it("follows imports once each, reads config and schema files relative to their catalog file, and takes env, interval, shards", async () => {
    const dir = tree({
      "flow.yaml": "import: [a/flow.yaml, b.flow.yaml]\n",
      "a/flow.yaml": [
        "import: [../b.flow.yaml]",
        "captures:",
        "  acme/cap:",
        "    endpoint: {local: {command: [python3, x.py], config: conf/config.yaml, env: {TOKEN: abc, N: 3}}}",
        "    bindings:",
        "      - {resource: {stream: s1}, target: acme/one, backfill: 2}",
        "      - {resource: {stream: s2}, target: acme/two, disable: true}",
        "    interval: 1h 30m",
        "    shards: {logLevel: debug}",
      ].join("\n"),
      "a/conf/config.yaml": "host: db\nport: 5432\n",
      "b.flow.yaml": "collections:\n  acme/one: {schema: schemas/one.json, key: [/id]}\n  acme/two: {writeSchema: {type: object}, readSchema: {type: object, x: 1}, key: [/a, /b]}\n",
      "schemas/one.json": '{"type": "object", "properties": {"id": {"type": "integer"}}}',
    });
    const catalog = await loadCatalog(path.join(dir, "flow.yaml"));
    expect(catalog.files.map((f) => path.relative(dir, f))).toEqual(["flow.yaml", "a/flow.yaml", "b.flow.yaml"]);
    const capture = selectCapture(catalog, "acme/cap");
    expect(capture.endpoint).toMatchObject({ config: { host: "db", port: 5432 }, configFile: path.join(dir, "a/conf/config.yaml"), env: { TOKEN: "abc", N: "3" }, cwd: path.join(dir, "a") });
    expect(capture.bindings.map((b) => [b.target, b.backfill, b.disable])).toEqual([
      ["acme/one", 2, false],
      ["acme/two", 0, true],
    ]);
    expect(capture.intervalSeconds).toBe(5400);
    expect(capture.logLevel).toBe("debug");
    expect(catalog.collections.get("acme/one")!.writeSchema).toEqual({ type: "object", properties: { id: { type: "integer" } } });
    expect(catalog.collections.get("acme/two")!.readSchema).toEqual({ type: "object", x: 1 });
  });

  it.each([
    ["captures:\n  acme/cap:\n    endpoint: {local: {command: node}}\n", /^flow\.yaml:3:33: captures\.acme\/cap\.endpoint\.local\.command: must be a non-empty list of strings/],
    ["captures:\n  acme/cap:\n    bindings: []\n", /^flow\.yaml:3:5: captures\.acme\/cap\.endpoint: is required/],
    ["captures:\n  cap:\n    endpoint: {local: {command: [x]}}\n", /captures\.cap: "cap" is not a valid task name/],
    ["captures:\n  acme/cap:\n    endpoint: {local: {command: [x]}}\n    bindings:\n      - {resource: {a: 1}}\n", /^flow\.yaml:5:9: captures\.acme\/cap\.bindings\[0\]\.target: is required/],
    ["captures:\n  acme/cap:\n    endpoint: {local: {command: [x]}}\n    interval: soon\n", /^flow\.yaml:4:15: captures\.acme\/cap\.interval: "soon" is not a duration/],
    ["captures:\n  acme/cap:\n    endpoint: {local: {command: [x], config: missing.yaml}}\n", /captures\.acme\/cap\.endpoint\.local\.config: cannot load config file: missing\.yaml: cannot read: no such file/],
    ["import: [nope.yaml]\n", /^flow\.yaml:1:10: import\[0\]: cannot import nope\.yaml: cannot read: no such file/],
    ["collections:\n  acme/c: {schema: {type: object}, key: id}\n", /^flow\.yaml:2:41: collections\.acme\/c\.key: is required: a list of JSON pointers/],
    ["captures: [1, 2\n", /^flow\.yaml:\d+:\d+: invalid YAML/],
    ["captures:\n  acme/cap:\n    endpoint: {local: {command: [x]}}\n    shards: {logLevel: loud}\n", /shards\.logLevel: must be one of trace, debug, info, warn, error/],
  ])("names the file, the place and the problem: %j", async (text, message) => {
    const dir = tree({ "flow.yaml": text });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await expect(loadCatalog("flow.yaml")).rejects.toThrow(message);
    } finally {
      process.chdir(cwd);
    }
  });

  it("says how to decrypt a sops-encrypted config when sops is not on PATH", async () => {
    const dir = tree({ "flow.yaml": "captures:\n  acme/cap:\n    endpoint: {local: {command: [x], config: c.yaml}}\n", "c.yaml": "a_sops: ENC[x]\nsops: {mac: y}\n" });
    const PATH = process.env.PATH;
    process.env.PATH = path.join(dir, "no-sops-here");
    try {
      await expect(loadCatalog(path.join(dir, "flow.yaml"))).rejects.toThrow(/c\.yaml is sops-encrypted \(Estuary's convention for test credentials\), but `sops` is not on PATH: install sops/);
    } finally {
      process.env.PATH = PATH;
    }
  });

  it("warns about keys it ignores, and makes selectCapture choose or explain", async () => {
    const dir = tree({ "flow.yaml": "captures:\n  acme/a: {endpoint: {local: {command: [x]}}, colour: red}\n  acme/b: {endpoint: {local: {command: [y]}}}\n" });
    const catalog = await loadCatalog(path.join(dir, "flow.yaml"));
    expect(catalog.warnings).toEqual([expect.stringMatching(/captures\.acme\/a\.colour: unknown key, ignored$/)]);
    expect(() => selectCapture(catalog)).toThrow(/declares 2 captures \(acme\/a, acme\/b\): choose one with --capture/);
    expect(() => selectCapture(catalog, "acme/c")).toThrow(/no capture named acme\/c .* \(it has: acme\/a, acme\/b\)/);
  });
});

describe("parseDurationSeconds", () => {
  it.each([
    ["5m", 300],
    ["300s", 300],
    ["1h 30m", 5400],
    ["1h30m", 5400],
    ["500ms", 0.5],
    ["2d", 172800],
    ["10", undefined],
    ["5 parsecs", undefined],
    ["", undefined],
  ])("%j is %j seconds", (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });
});
