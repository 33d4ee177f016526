import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { exchange } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";
import { bundleExample, readmeExample, typeErrors } from "../helpers/readme.js";

/**
 * README's "Write an API connector": the connector compiles under strict settings and runs as a
 * process, and the README's own vitest test of it runs here as written (imported below, so its
 * `it` is one of this file's tests), against the testing kit's fixture API.
 */
const workDir = path.join(repoRoot, "test/.tmp/readme-api");
const files = { connector: path.join(workDir, "connector.ts"), main: path.join(workDir, "main.ts"), test: path.join(workDir, "connector.test.ts") };
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
writeFileSync(files.connector, readmeExample("api-connector"));
// What the README says main.ts is.
writeFileSync(files.main, 'import { serve } from "flowcap";\nimport { connector } from "./connector.js";\n\nawait serve(connector);\n');
writeFileSync(files.test, readmeExample("api-connector-test"));

// The example's snapshot does not exist yet: write it, as a first run outside CI would.
const updateBefore = process.env.UPDATE_SNAPSHOTS;
process.env.UPDATE_SNAPSHOTS = "1";
afterAll(() => {
  if (updateBefore === undefined) delete process.env.UPDATE_SNAPSHOTS;
  else process.env.UPDATE_SNAPSHOTS = updateBefore;
});

describe("README's API connector", () => {
  it("type-checks, with its test, against the public API under strict settings", () => {
    expect(typeErrors([files.main, files.test])).toEqual([]);
  }, 120_000);

  it("runs as a process: spec, discover with its interval, and a config error", async () => {
    const bundle = path.join(workDir, "main.mjs");
    await bundleExample(files.main, bundle);
    const send = (...requests: object[]) => exchange([process.execPath, bundle], workDir, ...requests);
    const discovered = await send({ spec: { config: {} } }, { discover: { config: { api_key: "k" } } });
    expect(discovered.code).toBe(0);
    expect(discovered.out[0]).toMatchObject({ spec: { configSchema: { properties: { api_key: { secret: true } } } } });
    expect(discovered.out[1]).toMatchObject({ discovered: { bindings: [{ recommendedName: "orders", key: ["/id"], resourceConfig: { name: "orders", interval: "PT5M" } }] } });
    const invalid = await send({ discover: { config: {} } });
    expect(invalid.code).toBe(1);
    expect(invalid.last?.message).toBe("endpoint config: api_key: is required");
  });
});

// The README's test, as written.
await import(pathToFileURL(files.test).href);

describe("README's API connector test", () => {
  it("wrote its discover snapshot beside itself", () => {
    const snapshot = path.join(workDir, "snapshots/discover.json");
    expect(existsSync(snapshot)).toBe(true);
    expect(JSON.parse(readFileSync(snapshot, "utf8"))).toEqual([expect.objectContaining({ recommendedName: "orders", resourceConfig: { interval: "PT5M", name: "orders" } })]);
  });
});
