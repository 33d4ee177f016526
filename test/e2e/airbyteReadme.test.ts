// README's "Wrap an Airbyte source" examples, run for real over a small Airbyte source in Python.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import ts from "typescript";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { FLOWCAP, INTERNAL_SPEC, reduceSession } from "../helpers/airbyte.js";
import { spawnConnector } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";

/** The code block that follows `<!-- example: <name> ... -->` in README.md. */
function readmeExample(name: string, lang: string): string {
  const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const match = new RegExp(`<!-- example: ${name}\\b[^>]*-->\\s*\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no ${lang} example named ${name}`);
  return match[1]!;
}

/** An Airbyte source: the numbers 1..config.count, a STATE after each, resuming from its state. */
const MAIN_PY = `import json, sys
def out(m): print(json.dumps(m))
cmd, args = sys.argv[1], dict(zip(sys.argv[2::2], sys.argv[3::2]))
if cmd == "spec":
    out({"type": "SPEC", "spec": {"documentationUrl": "https://example.com/numbers", "connectionSpecification": {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}}})
elif cmd == "check":
    out({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}})
elif cmd == "discover":
    out({"type": "CATALOG", "catalog": {"streams": [{"name": "numbers", "json_schema": {"type": "object", "properties": {"n": {"type": "integer"}}}, "supported_sync_modes": ["full_refresh", "incremental"], "source_defined_cursor": True, "default_cursor_field": ["n"], "source_defined_primary_key": [["n"]]}]}})
elif cmd == "read":
    config, start = json.load(open(args["--config"])), 0
    for m in json.load(open(args["--state"])) if "--state" in args else []:
        start = m["stream"]["stream_state"]["n"]
    for n in range(start + 1, config["count"] + 1):
        out({"type": "RECORD", "record": {"stream": "numbers", "data": {"n": n}, "emitted_at": 0}})
        out({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "numbers"}, "stream_state": {"n": n}}}})
`;

const workDir = path.join(repoRoot, "test/.tmp/readme-airbyte");
const source = path.join(workDir, "main.ts");
const bundle = path.join(workDir, "main.mjs");
const binding = { resourceConfig: { stream: "numbers", syncMode: "incremental" }, resourcePath: ["numbers"], collection: { name: "acmeCo/numbers", key: ["/n"] }, stateKey: "numbers" };
const open = (config: object, state: object = {}) => ({ open: { capture: { name: "acmeCo/numbers", config, bindings: [binding] }, version: "1", state } });

async function exchange(argv: string[], ...requests: object[]) {
  const run = spawnConnector(argv, { cwd: workDir });
  for (const r of requests) run.send(r);
  if (!requests.some((r) => "open" in r)) run.end();
  const { code } = await run.exit;
  run.end();
  return { code, out: run.stdout.json, last: run.logs().at(-1) };
}

describe("README's Airbyte examples", () => {
  beforeAll(async () => {
    mkdirSync(workDir, { recursive: true });
    writeFileSync(path.join(workDir, "main.py"), MAIN_PY);
    writeFileSync(source, readmeExample("airbyte-connector", "ts"));
    await build({
      entryPoints: [source],
      outfile: bundle,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      alias: { flowcap: path.join(repoRoot, "src/index.ts"), "flowcap/airbyte": path.join(repoRoot, "src/shims/airbyte/index.ts") },
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: "silent",
    });
  });

  it("the TypeScript example type-checks against the public API", () => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(repoRoot, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const program = ts.createProgram([source], { ...config.options, noEmit: true });
    expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
  });

  it("the TypeScript example is a connector: spec, discover, and a capture that resumes", async () => {
    const node = [process.execPath, bundle];
    const spec = await exchange(node, INTERNAL_SPEC);
    expect(spec.out[0]).toMatchObject({ spec: { documentationUrl: "https://example.com/docs/numbers", configSchema: { required: ["count"] }, resourcePathPointers: ["/namespace", "/stream"] } });
    const discovered = await exchange(node, INTERNAL_SPEC, { discover: { config: { count: 3 } } });
    expect(discovered.out[1]).toMatchObject({ discovered: { bindings: [{ recommendedName: "numbers", resourceConfig: { stream: "numbers", syncMode: "incremental", cursorField: ["n"] }, key: ["/n"] }] } });
    const first = await exchange(node, INTERNAL_SPEC, open({ count: 3 }));
    expect(first.code).toBe(0);
    const one = reduceSession(first.out);
    expect(one.docs.map((d) => d.doc)).toEqual([1, 2, 3].map((n) => ({ n, _meta: { op: "u", row_id: n - 1 } })));
    const second = await exchange(node, INTERNAL_SPEC, open({ count: 5 }, one.state));
    expect(reduceSession(second.out, one.state).docs.map((d) => d.doc.n)).toEqual([4, 5]);
  });

  it("the Flow catalog's command runs the source through flowcap airbyte", async () => {
    const catalog = parseYaml(readmeExample("airbyte-flow-yaml", "yaml")) as {
      captures: Record<string, { endpoint: { local: { command: string[]; config: object } }; bindings: { resource: object }[] }>;
    };
    const capture = catalog.captures["acmeCo/numbers"]!;
    const [program, ...args] = capture.endpoint.local.command;
    expect(program).toBe("flowcap");
    expect(capture.bindings[0]!.resource).toEqual(binding.resourceConfig);
    const run = await exchange([...FLOWCAP, ...args], INTERNAL_SPEC, open(capture.endpoint.local.config));
    expect(run.code).toBe(0);
    expect(reduceSession(run.out).docs.map((d) => d.doc.n)).toEqual([1, 2, 3]);
  });
});
