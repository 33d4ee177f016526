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
  discover: () => {
    console.info({ streams: 2, names: ["a", "b"], nested: { deeper: { still: { more: [1, 2, 3] } } }, long: "x".repeat(60) });
    process.stdout.write("Downloading ");
    process.stdout.write(Buffer.from("done\\n"));
    process.stdout.write('{"type": "LOG", "a library": "printing JSON"}\\n');
    return { bindings: [] };
  },
  validate: () => ({ bindings: [] }),
  open: () => { throw new Error("not used"); },
});
`;

describe("a connector's stdout", () => {
  it("carries only protocol messages: console output and raw stdout writes while serving become JSON log lines on stderr", async () => {
    const run = spawnConnector([process.execPath, "--input-type=module", "-e", CHATTY], { cwd: repoRoot });
    run.send({ spec: { connectorType: "LOCAL", config: {} } });
    run.send({ discover: { connectorType: "LOCAL", config: {} } });
    run.end();
    expect((await run.exit).code, run.stderr.lines.join("\n")).toBe(0);
    // Before serve() the console is the process's own: that line is the connector's to avoid.
    expect(run.stdout.lines).toEqual(["printed while loading, before serve()", expect.stringMatching(/^\{"spec":\{"protocol":3032023,/), '{"discovered":{}}']);
    const printed = run.logs().filter((l) => l.fields.source === "console" || l.fields.source === "stdout");
    expect(printed.map((l) => [l.level, l.fields.source, l.message.split("\n")[0]])).toEqual([
      ["info", "console", "computing the spec"],
      ["warn", "console", "a deprecation"],
      ["info", "console", "{"],
      ["info", "stdout", "Downloading done"],
      ["info", "stdout", '{"type": "LOG", "a library": "printing JSON"}'],
    ]);
    // An object console.info prints over several lines is one log line.
    expect(printed[2]!.message.split("\n").length).toBeGreaterThan(3);
    expect(printed[2]!.message).toContain("streams: 2");
  });
});
