import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { spawnConnector } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";
import { bundleExample, readmeExample, typeErrors } from "../helpers/readme.js";

const workDir = path.join(repoRoot, "test/.tmp/readme-native");
const source = path.join(workDir, "main.ts");
const bundle = path.join(workDir, "main.mjs");

describe("README's native connector example", () => {
  beforeAll(async () => {
    mkdirSync(workDir, { recursive: true });
    writeFileSync(source, readmeExample("native-connector"));
    await bundleExample(source, bundle);
  });

  it("type-checks against the public API under strict settings", () => {
    expect(typeErrors(source)).toEqual([]);
  });

  it("runs as a connector: spec, discover, a config error, and a capture that resumes", async () => {
    const send = async (...requests: object[]) => {
      const run = spawnConnector([process.execPath, bundle]);
      for (const r of requests) run.send(r);
      run.end();
      const { code } = await run.exit;
      return { code, out: run.stdout.json, last: run.logs().at(-1) };
    };
    const spec = await send({ spec: { config: {} } });
    expect(spec.code).toBe(0);
    expect(spec.out[0]).toMatchObject({ spec: { protocol: 3032023, resourcePathPointers: ["/name"] } });

    const discovered = await send({ spec: { config: {} } }, { discover: { config: { token: "tok-123456" } } });
    expect(discovered.out[1]).toMatchObject({ discovered: { bindings: [{ recommendedName: "numbers", key: ["/n"] }] } });

    const invalid = await send({ discover: { config: { start: "one" } } });
    expect(invalid.code).toBe(1);
    expect(invalid.last?.message).toBe("endpoint config: 2 problems:\n - token: is required\n - start: must be integer");

    const open = (state: object) => ({
      open: {
        capture: {
          name: "acmeCo/numbers",
          config: { token: "tok-123456", start: 10 },
          bindings: [{ resourceConfig: { name: "numbers" }, resourcePath: ["numbers"], collection: { name: "acmeCo/numbers", key: ["/n"] }, stateKey: "numbers" }],
        },
        version: "1",
        state,
      },
    });
    const first = await send({ spec: { config: {} } }, open({}));
    expect(first.code).toBe(0);
    expect(first.out.slice(1)).toEqual([
      { opened: {} },
      { captured: { doc: { n: 10 } } },
      { checkpoint: { state: { updated: { bindingStateV1: { numbers: { next: 11 } } }, mergePatch: true } } },
      { captured: { doc: { n: 11 } } },
      { checkpoint: { state: { updated: { bindingStateV1: { numbers: { next: 12 } } }, mergePatch: true } } },
      { captured: { doc: { n: 12 } } },
      { checkpoint: { state: { updated: { bindingStateV1: { numbers: { next: 13 } } }, mergePatch: true } } },
    ]);
    const resumed = await send(open({ bindingStateV1: { numbers: { next: 12 } } }));
    expect(resumed.out.filter((m) => "captured" in m)).toEqual([{ captured: { doc: { n: 12 } } }]);
  });
});
