// The shim under flowcap's own harness (src/host), as a Flow catalog runs it:
// `flowcap check` (the protocol conformance suite) and `flowcap preview` across sessions.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FLOWCAP, NUMBERS_SOURCE_PY, tmpDir } from "../helpers/airbyte.js";
import { spawnConnector } from "../helpers/child.js";

const dir = tmpDir("airbyte-host");
writeFileSync(path.join(dir, "main.py"), NUMBERS_SOURCE_PY);
writeFileSync(
  path.join(dir, "flow.yaml"),
  JSON.stringify({
    captures: {
      "acmeCo/numbers": {
        endpoint: { local: { command: [...FLOWCAP, "airbyte", "--", "python3", "main.py"], config: { count: 3 } } },
        bindings: [{ resource: { stream: "numbers", syncMode: "incremental", cursorField: ["n"] }, target: "acmeCo/numbers" }],
      },
    },
    collections: { "acmeCo/numbers": { schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] }, key: ["/n"] } },
  }),
);

async function flowcap(...args: string[]) {
  const run = spawnConnector([...FLOWCAP, ...args], { cwd: dir });
  run.end();
  const { code } = await run.exit;
  return { code, lines: run.stdout.lines.filter((l) => l.trim()), stderr: run.stderr.lines.join("\n") };
}

describe("flowcap airbyte under flowcap's harness", () => {
  it("passes the conformance suite, crash safety included (flowcap check)", async () => {
    const { code, lines, stderr } = await flowcap("check", "--source", "flow.yaml", "--json");
    const results = lines.map((l) => JSON.parse(l) as { id: string; status: string; detail: string });
    expect(results.filter((r) => r.status !== "pass" && r.status !== "skip"), stderr).toEqual([]);
    expect(results.filter((r) => r.status === "pass").map((r) => r.id)).toEqual(
      expect.arrayContaining(["spec", "discover", "validate", "invalid-config", "unknown-resource", "session", "resume", "sigterm", "crash"]),
    );
    expect(code).toBe(0);
  }, 240_000);

  it("captures every record exactly once across sessions (flowcap preview)", async () => {
    const { code, lines, stderr } = await flowcap("preview", "--source", "flow.yaml", "--sessions", "1,1,-1");
    expect(code, stderr).toBe(0);
    expect(lines.map((l) => (JSON.parse(l) as [string, { n: number }])[1].n)).toEqual([1, 2, 3]);
  }, 120_000);
});
