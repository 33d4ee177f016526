import { describe, expect, it } from "vitest";
import { spawnConnector } from "../helpers/child.js";
import { repoRoot } from "../helpers/fixtures.js";

/**
 * A connector process started as Flow starts it: whatever its code (or a library) prints with
 * `console` must not reach stdout, Flow's protocol channel, where one stray line fails the task.
 */
const CHATTY = `
import { serve } from "flowcap";
console.log("printed while loading, before serve()");
await serve({
  spec: () => { console.log("computing the spec"); console.warn("a deprecation"); return { configSchema: { type: "object" }, resourceConfigSchema: { type: "object" }, documentationUrl: "https://example.com" }; },
  discover: () => { console.info({ streams: 2 }); return { bindings: [] }; },
  validate: () => ({ bindings: [] }),
  open: () => { throw new Error("not used"); },
});
`;

describe("a connector's stdout", () => {
  it("carries only protocol messages: console output while serving becomes JSON log lines on stderr", async () => {
    const run = spawnConnector([process.execPath, "--input-type=module", "-e", CHATTY], { cwd: repoRoot });
    run.send({ spec: { connectorType: "LOCAL", config: {} } });
    run.send({ discover: { connectorType: "LOCAL", config: {} } });
    run.end();
    expect((await run.exit).code, run.stderr.lines.join("\n")).toBe(0);
    // Before serve() the console is the process's own: that line is the connector's to avoid.
    expect(run.stdout.lines).toEqual(["printed while loading, before serve()", expect.stringMatching(/^\{"spec":\{"protocol":3032023,/), '{"discovered":{}}']);
    expect(run.logs().filter((l) => l.fields.source === "console").map((l) => [l.level, l.message])).toEqual([
      ["info", "computing the spec"],
      ["warn", "a deprecation"],
      ["info", "{ streams: 2 }"],
    ]);
  });
});
