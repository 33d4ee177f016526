// The Singer example connector under flowcap's own harness (src/host), as its Flow catalog runs
// it: `flowcap check` (the protocol conformance suite) and `flowcap preview` across sessions.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempTree } from "../helpers/cli.js";
import { FLOWCAP } from "../helpers/airbyte.js";
import { spawnConnector } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";

const catalog = path.join(repoRoot, "connectors/source-singer-example/test.flow.yaml");

async function flowcap(...args: string[]) {
  const run = spawnConnector([...FLOWCAP, ...args], { cwd: repoRoot });
  run.end();
  const { code } = await run.exit;
  return { code, lines: run.stdout.lines.filter((l) => l.trim()), stderr: run.stderr.lines.join("\n") };
}

describe("connectors/source-singer-example under flowcap's harness", () => {
  it("passes the conformance suite, crash safety included (flowcap check)", async () => {
    const { code, lines, stderr } = await flowcap("check", "--source", catalog, "--json");
    const results = lines.map((l) => JSON.parse(l) as { id: string; status: string; detail: string });
    expect(results.filter((r) => r.status !== "pass" && r.status !== "skip"), stderr).toEqual([]);
    expect(results.filter((r) => r.status === "pass").map((r) => r.id)).toEqual(
      expect.arrayContaining(["spec", "discover", "validate", "invalid-config", "unknown-resource", "session", "resume", "sigterm", "crash"]),
    );
    expect(code).toBe(0);
  }, 240_000);

  it("captures the demo shop once across sessions (flowcap preview), stopped after its first checkpoint and resumed", async () => {
    const { code, lines, stderr } = await flowcap("preview", "--source", catalog, "--sessions", "1,-1");
    expect(code, stderr).toBe(0);
    const docs = lines.map((l) => JSON.parse(l) as [string, Record<string, unknown>]);
    const orders = docs.filter(([c]) => c === "acmeCo/orders").map(([, d]) => d.id);
    expect(orders).toEqual(Array.from({ length: 250 }, (_, i) => i + 1).sort((a, b) => orderOf(a) - orderOf(b) || a - b));
    expect(docs.filter(([c]) => c === "acmeCo/products").map(([, d]) => d.sku)).toEqual(Array.from({ length: 8 }, (_, i) => `SKU-00${i + 1}`));
  }, 120_000);
});

describe("connectors/source-singer-example as its image runs it", () => {
  it("the Dockerfile's build steps put the tap beside the bundle, and its entrypoint captures from a clean directory", async () => {
    const text = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8");
    const out = tempTree();
    const env = { ...process.env, CONNECTOR: "source-singer-example", PATH: `${path.join(repoRoot, "node_modules/.bin")}:${process.env.PATH}` };
    // The build stage's bundle and runtime/ steps, with /out mapped to a temporary directory.
    for (const step of text.split("\n").filter((l) => l.startsWith("RUN ") && (l.includes("flowcap bundle") || l.includes("/runtime")))) {
      const built = spawnSync("sh", ["-c", step.slice(4).replace(/\/out\//g, `${out}/`)], { cwd: repoRoot, env, encoding: "utf8" });
      expect(built.status, built.stderr).toBe(0);
    }
    expect(readdirSync(out)).toEqual(expect.arrayContaining(["connector.mjs", "tap_example.py"]));
    const run = spawnConnector([process.execPath, "--enable-source-maps", path.join(out, "connector.mjs")], { cwd: out });
    run.send({ spec: { connectorType: "IMAGE", config: {} } });
    run.send({
      open: {
        capture: { name: "acmeCo/shop", config: {}, bindings: [{ resourceConfig: { stream: "products" }, resourcePath: ["products"], collection: { name: "acmeCo/products", key: ["/sku"] }, stateKey: "products" }] },
        version: "1",
        state: {},
      },
    });
    const { code } = await run.exit;
    run.end();
    expect(code, run.stderr.lines.join("\n")).toBe(0);
    expect(run.stdout.json.filter((m) => "captured" in m)).toHaveLength(8);
  });
});

/** The demo shop's orders come in updated_at order: their timestamp, as the tap builds it. */
function orderOf(id: number): number {
  return (1 + (Math.floor(id / 24) % 28)) * 1e6 + (id % 24) * 1e3 + (id % 60);
}
