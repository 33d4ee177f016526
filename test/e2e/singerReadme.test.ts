// README's "Wrap a Singer tap" examples, run for real over the example tap (plain Python).
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { FLOWCAP, INTERNAL_SPEC, reduceSession } from "../helpers/airbyte.js";
import { exchange } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";
import { bundleExample, readmeExample, typeErrors } from "../helpers/readme.js";

const workDir = path.join(repoRoot, "test/.tmp/readme-singer");
const source = path.join(workDir, "main.ts");
const bundle = path.join(workDir, "main.mjs");

type Resource = { stream: string; replication_method?: string; replication_key?: string };
const open = (config: object, resources: Resource[], state: object = {}) => ({
  open: {
    capture: {
      name: "acmeCo/shop",
      config,
      bindings: resources.map((r) => ({ resourceConfig: r, resourcePath: [r.stream], collection: { name: `acmeCo/${r.stream}`, key: [r.stream === "orders" ? "/id" : "/sku"] }, stateKey: r.stream })),
    },
    version: "1",
    state,
  },
});

describe("README's Singer examples", () => {
  beforeAll(async () => {
    mkdirSync(workDir, { recursive: true });
    copyFileSync(path.join(repoRoot, "connectors/source-singer-example/runtime/tap_example.py"), path.join(workDir, "tap.py"));
    writeFileSync(source, readmeExample("singer-connector", "ts"));
    await bundleExample(source, bundle);
  });

  it("the TypeScript example type-checks against the public API", () => {
    expect(typeErrors(source)).toEqual([]);
  });

  it("the TypeScript example is a connector: spec, discover, a config refused, and a capture that resumes", async () => {
    const node = [process.execPath, bundle];
    const spec = await exchange(node, workDir, INTERNAL_SPEC);
    expect(spec.out[0]).toMatchObject({ spec: { documentationUrl: "https://example.com/docs/shop", configSchema: { properties: { page_size: { minimum: 1 } } }, resourcePathPointers: ["/stream"] } });
    const discovered = await exchange(node, workDir, INTERNAL_SPEC, { discover: { config: { page_size: 50 } } });
    expect(discovered.out[1]).toMatchObject({
      discovered: {
        bindings: [
          { recommendedName: "orders", resourceConfig: { stream: "orders", replication_method: "INCREMENTAL", replication_key: "updated_at" }, key: ["/id"] },
          { recommendedName: "products", resourceConfig: { stream: "products", replication_method: "FULL_TABLE" }, key: ["/sku"] },
        ],
      },
    });
    const refused = await exchange(node, workDir, INTERNAL_SPEC, { discover: { config: { page_size: 0 } } });
    expect(refused.code).toBe(1);
    expect(refused.last?.message).toBe("endpoint config: page_size: must be >= 1");
    const orders = [{ stream: "orders", replication_method: "INCREMENTAL", replication_key: "updated_at" }];
    const first = await exchange(node, workDir, INTERNAL_SPEC, open({ page_size: 100 }, orders));
    expect(first.code, JSON.stringify(first.last)).toBe(0);
    const one = reduceSession(first.out);
    expect(one.docs).toHaveLength(250);
    const second = await exchange(node, workDir, INTERNAL_SPEC, open({ page_size: 100 }, orders, one.state));
    expect(reduceSession(second.out, one.state).docs).toEqual([]);
  });

  it("the Flow catalog's command runs the tap through flowcap singer", async () => {
    const catalog = parseYaml(readmeExample("singer-flow-yaml", "yaml")) as {
      captures: Record<string, { endpoint: { local: { command: string[]; config: object } }; bindings: { resource: Resource }[] }>;
    };
    const capture = catalog.captures["acmeCo/shop"]!;
    const [program, ...args] = capture.endpoint.local.command;
    expect(program).toBe("flowcap");
    const run = await exchange([...FLOWCAP, ...args], workDir, INTERNAL_SPEC, open(capture.endpoint.local.config, capture.bindings.map((b) => b.resource)));
    expect(run.code, JSON.stringify(run.last)).toBe(0);
    const docs = reduceSession(run.out).docs;
    expect(docs.filter((d) => d.binding === 0)).toHaveLength(250);
    expect(docs.filter((d) => d.binding === 1).map((d) => d.doc.sku)).toEqual(Array.from({ length: 8 }, (_, i) => `SKU-00${i + 1}`));
  });
});
