import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/fixtures.js";

/**
 * A connector that goes on logging after whoever read its stderr (Flow's runtime) is gone. Its
 * log writes fail with EPIPE; the failure must end the process, not feed an uncaught-error log
 * line that fails again, forever (an orphan spinning at full CPU, seen after a killed test run).
 */
const LOGS_FOREVER = `
import { serve } from "flowcap";
await serve({
  spec: () => ({ configSchema: { type: "object" }, resourceConfigSchema: { type: "object" }, documentationUrl: "https://example.com" }),
  discover: async (_request, ctx) => {
    for (;;) {
      ctx.log.info("still discovering", { padding: "x".repeat(200) });
      await new Promise((r) => setTimeout(r, 5));
    }
  },
  validate: () => ({ bindings: [] }),
  open: () => { throw new Error("not used"); },
});
`;

describe("a connector whose log reader is gone", () => {
  it("exits non-zero instead of looping on the failed log writes", async () => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", LOGS_FOREVER], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    child.stdout.resume();
    child.stdin.write(JSON.stringify({ spec: { connectorType: "LOCAL", config: {} } }) + "\n");
    child.stdin.write(JSON.stringify({ discover: { connectorType: "LOCAL", config: {} } }) + "\n");
    // Read until it is logging, then hang up on its stderr as a dead reader would.
    for await (const chunk of child.stderr) if (String(chunk).includes("still discovering")) break;
    child.stderr.destroy();
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 1, signal: null });
  }, 180_000);
});
