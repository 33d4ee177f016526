import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { sdkAcksCatalog, tempTree } from "../../test/helpers/cli.js";
import { defineConnector, defineResource } from "../sdk/index.js";
import { createConnectorHarness, matchSnapshot, UUID_PLACEHOLDER } from "./index.js";

const TOKEN = "sk_live_5f2a9c0d7e";

const counter = defineConnector({
  documentationUrl: "https://example.com/counter",
  config: { type: "object", properties: { token: { type: "string", secret: true } }, required: ["token"] },
  resources: [
    defineResource({
      name: "counts",
      key: ["/n"],
      schema: { type: "object", properties: { n: { type: "integer" }, note: { type: "string" } }, required: ["n"] },
      initialState: { n: 0 },
      async *capture(ctx) {
        for (let n = ctx.state.n + 1; !ctx.stopping.aborted; n++) {
          // A connector that echoes its secret: the snapshot must not show it.
          yield { n, note: `token ${TOKEN}` };
          yield ctx.checkpoint({ n });
          if (!(await ctx.sleep(5))) return;
        }
      },
    }),
  ],
});

describe("the testing kit", () => {
  it("runs an in-process connector for N transactions, and resumes it from the state it ended with", async () => {
    const harness = createConnectorHarness(counter, { config: { token: TOKEN } });
    const first = await harness.capture({ transactions: 3 });
    expect(first.documents).toEqual([
      ["acmeCo/counts", { _meta: { uuid: UUID_PLACEHOLDER }, n: 1, note: `token ${TOKEN}` }],
      ["acmeCo/counts", { _meta: { uuid: UUID_PLACEHOLDER }, n: 2, note: `token ${TOKEN}` }],
      ["acmeCo/counts", { _meta: { uuid: UUID_PLACEHOLDER }, n: 3, note: `token ${TOKEN}` }],
    ]);
    expect(first.state).toEqual({ bindingStateV1: { counts: { n: 3 } } });
    const next = await harness.capture({ transactions: 2, state: first.state });
    expect(next.documents.map(([, d]) => d.n)).toEqual([4, 5]);
  });

  it("snapshots spec, discover and documents with secrets redacted; a change fails until UPDATE_SNAPSHOTS=1 rewrites it", async () => {
    const dir = tempTree();
    const harness = createConnectorHarness(counter, { config: { token: TOKEN } });
    const file = path.join(dir, "capture.json");
    const { documents } = await harness.capture({ transactions: 1 });
    await harness.matchSnapshot(file, documents, { env: {} });
    const written = readFileSync(file, "utf8");
    expect(written).not.toContain(TOKEN);
    expect(JSON.parse(written)).toEqual([["acmeCo/counts", { _meta: { uuid: UUID_PLACEHOLDER }, n: 1, note: "token [redacted]" }]]);
    await harness.matchSnapshot(file, documents, { env: {} });

    const changed = [["acmeCo/counts", { n: 2 }]];
    await expect(harness.matchSnapshot(file, changed, { env: {} })).rejects.toThrow(/differs at line \d+:\n  expected: .*\n  actual: .*UPDATE_SNAPSHOTS=1/s);
    await harness.matchSnapshot(file, changed, { env: { UPDATE_SNAPSHOTS: "1" } });
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(changed);

    await harness.matchSnapshot(path.join(dir, "spec.json"), [await harness.spec()], { env: {} });
    expect(JSON.parse(readFileSync(path.join(dir, "spec.json"), "utf8"))[0]).toMatchObject({ protocol: 3032023, documentationUrl: "https://example.com/counter" });
    await harness.matchSnapshot(path.join(dir, "discover.json"), await harness.discover(), { env: {} });
    expect(JSON.parse(readFileSync(path.join(dir, "discover.json"), "utf8"))).toEqual([
      expect.objectContaining({ recommendedName: "counts", resourceConfig: { name: "counts" }, key: ["/n"] }),
    ]);
  });

  it("takes the snapshot file as a file: URL too (beside the test, wherever vitest runs from)", async () => {
    const url = pathToFileURL(path.join(tempTree(), "nested", "spec.json"));
    await matchSnapshot(url, { a: 1 }, { env: {} });
    expect(JSON.parse(readFileSync(url, "utf8"))).toEqual({ a: 1 });
    await expect(matchSnapshot(url, { a: 2 }, { env: {} })).rejects.toThrow(/nested\/spec.json differs at line 2/);
  });

  it("refuses, under CI, a snapshot that was never written", async () => {
    const file = path.join(tempTree(), "missing.json");
    await expect(matchSnapshot(file, [1], { env: { CI: "true" } })).rejects.toThrow(/does not exist; run the tests with UPDATE_SNAPSHOTS=1/);
  });

  it("runs a connector as a process from a catalog, acknowledging its checkpoints as Flow does", async () => {
    const harness = createConnectorHarness({ source: sdkAcksCatalog() });
    const first = await harness.capture({ transactions: 3 });
    expect(first.documents.map(([collection, d]) => [collection, d.n])).toEqual([
      ["acmeCo/ticks", 1],
      ["acmeCo/ticks", 2],
      ["acmeCo/ticks", 3],
    ]);
    const next = await harness.capture({ transactions: 1, state: first.state });
    expect(next.documents.map(([, d]) => d.n)).toEqual([4]);
  });
});
