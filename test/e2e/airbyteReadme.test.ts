// README's "Wrap an Airbyte source" examples, run for real over a small Airbyte source in Python.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { FLOWCAP, INTERNAL_SPEC, NUMBERS_SOURCE_PY, reduceSession } from "../helpers/airbyte.js";
import { exchange } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";
import { bundleExample, readmeExample, typeErrors } from "../helpers/readme.js";

const workDir = path.join(repoRoot, "test/.tmp/readme-airbyte");
const source = path.join(workDir, "main.ts");
const bundle = path.join(workDir, "main.mjs");
const binding = { resourceConfig: { stream: "numbers", syncMode: "incremental" }, resourcePath: ["numbers"], collection: { name: "acmeCo/numbers", key: ["/n"] }, stateKey: "numbers" };
const open = (config: object, state: object = {}) => ({ open: { capture: { name: "acmeCo/numbers", config, bindings: [binding] }, version: "1", state } });

describe("README's Airbyte examples", () => {
  beforeAll(async () => {
    mkdirSync(workDir, { recursive: true });
    writeFileSync(path.join(workDir, "main.py"), NUMBERS_SOURCE_PY);
    writeFileSync(source, readmeExample("airbyte-connector", "ts"));
    await bundleExample(source, bundle);
  });

  it("the TypeScript example type-checks against the public API", () => {
    expect(typeErrors(source)).toEqual([]);
  });

  it("the TypeScript example is a connector: spec, discover, and a capture that resumes", async () => {
    const node = [process.execPath, bundle];
    const spec = await exchange(node, workDir, INTERNAL_SPEC);
    expect(spec.out[0]).toMatchObject({ spec: { documentationUrl: "https://example.com/docs/numbers", configSchema: { required: ["count"] }, resourcePathPointers: ["/namespace", "/stream"] } });
    const discovered = await exchange(node, workDir, INTERNAL_SPEC, { discover: { config: { count: 3 } } });
    expect(discovered.out[1]).toMatchObject({ discovered: { bindings: [{ recommendedName: "numbers", resourceConfig: { stream: "numbers", syncMode: "incremental", cursorField: ["n"] }, key: ["/n"] }] } });
    const first = await exchange(node, workDir, INTERNAL_SPEC, open({ count: 3 }));
    expect(first.code).toBe(0);
    const one = reduceSession(first.out);
    expect(one.docs.map((d) => d.doc)).toEqual([1, 2, 3].map((n) => ({ n, _meta: { op: "u", row_id: n - 1 } })));
    const second = await exchange(node, workDir, INTERNAL_SPEC, open({ count: 5 }, one.state));
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
    const run = await exchange([...FLOWCAP, ...args], workDir, INTERNAL_SPEC, open(capture.endpoint.local.config));
    expect(run.code).toBe(0);
    expect(reduceSession(run.out).docs.map((d) => d.doc.n)).toEqual([1, 2, 3]);
  });
});
